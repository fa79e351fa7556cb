"""The explorer's page: its sections (sections/, one module per part of the page) and what
lies below them.

app.py lays the sections out; each section reads the model shown (model_view.Shown), the
session's state (state.py) and what the sections share: the lenses cached per model
(lenses.py), the latent view (latent_view.py), a model request's life (model_requests.py), the
server (server.py). No section imports another; tests/test_layers.py holds the layers.
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
