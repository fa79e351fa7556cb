"""The explorer's page sections (one module each) and the plain helpers they draw with.

app.py lays the sections out; each section reads one cached ModelView (model_view.py) and the
session's state (state.py). Helpers take and return plain values and import without a page.
"""

import logging


class _NoRuntimeYet(logging.Filter):
    """`streamlit run app.py` imports the page's modules before Streamlit's runtime starts, and
    each `st.cache_data` then checks its parameters against a stand-in memory store, logging
    "No runtime found, using MemoryCacheStorageManager" once per function: 17 lines a user reads
    as warnings. The check passes for these parameters (no `persist`), and each function takes
    the runtime's own store at its first call, so the line says nothing wrong."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No runtime found")


logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(_NoRuntimeYet())
