"""Domain errors, turned into one-line messages at the edges (CLI, app).

CqcAssistantError
 ├── ConfigError          bad settings or environment
 ├── InputError           a bad document, path or URL handed to ingest
 ├── StoreError           the store is missing, locked or inconsistent
 │    └── StoreLockedError
 ├── NotFoundError        an unknown document id
 ├── QueryError           an empty or malformed question, filter or date
 ├── RatingError          scores the calculator cannot accept
 └── LLMError             the configured chat model failed
"""

from __future__ import annotations


class CqcAssistantError(Exception):
    """Root of every error a user may see as a plain sentence."""


class ConfigError(CqcAssistantError):
    pass


class InputError(CqcAssistantError):
    """A single input that cannot be ingested; the message names the input and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StoreError(CqcAssistantError):
    pass


class StoreLockedError(StoreError):
    pass


class NotFoundError(CqcAssistantError):
    pass


class QueryError(CqcAssistantError):
    pass


class RatingError(CqcAssistantError):
    pass


class LLMError(CqcAssistantError):
    pass
