"""`python -m cqc_assistant`: the same command as `cqc-assistant`."""

from .cli import main

main()
