"""The dashboard's script: `overdue dashboard` serves it through dashboard/server.py (which adds the sign-in
cookie routes); AppTest runs it directly.

Streamlit reruns this file on every interaction: it resolves who is signed in, declares the pages (before that,
the sign-in form at every page's address; afterwards every page, visible to its roles), draws the sidebar, runs
the page the person is on and, right after a sign-in, sends the browser for its session cookie
(dashboard/signin.py).
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, identity, signin
from dashboard.i18n import t

st.set_page_config(page_title="overdue", page_icon=":material/account_balance:", layout="wide")
person = identity.authenticate()
if person is None:
    # Every page's address answers with the sign-in form, so a bookmark or a shared link (/account?account=42)
    # opens what it names once the person has signed in, instead of "page not found" and the first page.
    title = t("signin.title")
    page = st.navigation(
        [st.Page(signin.render, title=title, url_path="signin", default=True)]
        + [st.Page(signin.render, title=title, url_path=spec.key) for spec in access.PAGES],
        position="hidden",
    )
else:
    pages = {
        spec.key: st.Page(
            spec.script,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.key,
            visibility="visible" if access.may_see(spec.key, person.roles) else "hidden",
        )
        for spec in access.PAGES
    }
    first = next((spec.key for spec in access.PAGES if access.may_see(spec.key, person.roles)), access.PAGES[0].key)
    # The default page answers at "/" only, so it is a hidden step to the person's first page: every real page
    # keeps its own address, and a link such as /account?account=42 opens what it names.
    home = st.Page(
        lambda: st.switch_page(pages[first]),
        title=pages[first].title,
        url_path="home",
        default=True,
        visibility="hidden",
    )
    page = st.navigation([home, *pages.values()])
    if page.url_path == home.url_path:  # go on before the sidebar takes the cookie ticket: a switch drops what
        st.switch_page(pages[first])  # this run drew, the ticket's redirect with it (seen with the inbox first)
    signin.sidebar()
page.run()
if person is not None:
    signin.hand_off()
