"""Streamlit-side helpers: shared resources, session state, page frame and figures."""
