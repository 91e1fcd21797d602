"""The process `cqc-assistant ui` starts: Streamlit's own `streamlit run`, with the app's start-up already begun.

Why: Streamlit runs the app's script only when a browser connects, so a start-up begun by the page waits for
the server to start and the page to load (1.5-2 s here) before it even begins. Begun here, before the server,
the model and the store load while the server starts and the browser loads the page; the page then finds
that same start-up (`runtime.startup`, keyed by the settings) instead of beginning its own.

    python -m cqc_assistant.app.serve run cqc_assistant/app/main.py --server.port 8501   # as `streamlit …`
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    # What the page's first paint imports, before start-up's thread is importing the heavy rest (see main.py).
    from cqc_assistant import councils, domain  # noqa: F401
    from cqc_assistant.app import history, runtime  # noqa: F401 - history: imported for its import time

    runtime.prestart()
    from streamlit.web import cli as streamlit_cli

    streamlit_cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="streamlit")


if __name__ == "__main__":
    main()
