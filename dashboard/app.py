"""The dashboard's script: `overdue dashboard` serves it through dashboard/server.py (which adds the sign-in
cookie routes); AppTest runs it directly.

Streamlit reruns this file on every interaction: it resolves who is signed in, declares the pages (only the
sign-in page before that; afterwards every page, visible to its roles), draws the sidebar, then runs the page
the person is on.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, identity, signin
from dashboard.i18n import t

st.set_page_config(page_title="overdue", page_icon=":material/account_balance:", layout="wide")
person = identity.authenticate()
if person is None:
    page = st.navigation([st.Page(signin.render, title=t("signin.title"), url_path="signin")], position="hidden")
else:
    allowed = [spec for spec in access.PAGES if access.may_see(spec.key, person.roles)] or [access.PAGES[0]]
    pages = [
        st.Page(
            spec.script,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.key,
            default=spec is allowed[0],
            visibility="visible" if access.may_see(spec.key, person.roles) else "hidden",
        )
        for spec in access.PAGES
    ]
    page = st.navigation(pages)
    signin.sidebar()
page.run()
