"""The explorer's page sections (one module each) and the plain helpers they draw with.

app.py lays the sections out; each section reads one cached ModelView (model_view.py) and the
session's state (state.py). Helpers take and return plain values and import without a page.
"""
