"""Dashboard pages, one module per page, each exposing `render()` for `st.Page`."""
