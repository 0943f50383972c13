"""Small pieces every page uses: a table with translated headers, paging in SQL, the database's URL."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from dashboard.i18n import t


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], namespace: str, *, key: str | None = None) -> None:
    """Rows as a read-only table, headed by `<namespace>.col_<column>` in the person's language."""
    if not rows:
        st.caption(t("common.none"))
        return
    headers = [t(f"{namespace}.col_{column}") for column in columns]
    shown = [{header: row[column] for header, column in zip(headers, columns, strict=True)} for row in rows]
    st.dataframe(shown, hide_index=True, width="stretch", key=key)


def page_window(total: int, size: int, key: str) -> tuple[int, int]:
    """(limit, offset) of the page the person picked; the pager shows only when there is more than one page."""
    pages = max(1, math.ceil(total / size))
    page = int(st.pagination(pages, key=key)) if pages > 1 else 1
    return size, (min(page, pages) - 1) * size
