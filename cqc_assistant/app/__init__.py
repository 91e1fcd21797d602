"""The Streamlit app: a thin shell over the Python API. Run with `cqc-assistant ui`.

`main.py` is the entry script; `views/` holds one script per page; `runtime.py` holds the cached model and
store, the assistant factory and shared widgets; `render.py` builds escaped HTML.
"""
