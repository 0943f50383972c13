"""The ops dashboard: `streamlit run dashboard/app.py` (or `overdue dashboard`).

Streamlit reruns this file on every interaction: it declares the pages, draws the shared sidebar, then runs
the page the person is on.
"""

from __future__ import annotations

import streamlit as st

from dashboard.identity import identity_sidebar
from dashboard.views import approvals, offer_approvals

st.set_page_config(page_title="overdue · ops", page_icon=":material/gavel:", layout="wide")
page = st.navigation(
    [
        st.Page(
            approvals.render,
            title="Pending approvals",
            icon=":material/gavel:",
            url_path="approvals",
            default=True,
        ),
        st.Page(
            offer_approvals.render,
            title="Offer approvals",
            icon=":material/handshake:",
            url_path="offers",
        ),
    ]
)
identity_sidebar()
page.run()
