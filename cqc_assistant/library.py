"""The library: one store directory holding the SQLite catalogue (with the lexical index) and Chroma.

`Library.open(settings, embedder)` is the one way in; the CLI, the app and the tests all go through it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .embedding import Embedder
from .errors import StoreLockedError
from .index.catalogue import Catalogue, DocRecord, SectionRecord
from .index.vectors import VectorStore


@dataclass
class Library:
    settings: Settings
    embedder: Embedder
    catalogue: Catalogue
    vectors: VectorStore

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder) -> Library:
        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        catalogue = Catalogue(home / "catalogue.sqlite3")
        vectors = VectorStore(
            home / "chroma",
            embedder_name=embedder.name,
            dimension=embedder.dimension,
            url=settings.chroma_url,
        )
        return cls(settings=settings, embedder=embedder, catalogue=catalogue, vectors=vectors)

    def close(self) -> None:
        self.catalogue.close()

    @contextmanager
    def writer(self) -> Iterator[None]:
        """One writer at a time per store; a second gets a clear message instead of waiting silently."""
        path = self.settings.home / "write.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreLockedError(
                    f"another ingest or remove is writing to {self.settings.home}; try again when it has finished"
                ) from None
            self.recover()
            yield
        finally:
            os.close(fd)

    def recover(self) -> None:
        """Finish what a killed writer left: drop pending versions and retire the ones marked for deletion."""
        for doc_id in self.catalogue.unfinished():
            self.vectors.delete_doc(doc_id)
            self.catalogue.purge(doc_id)

    # --- reads --------------------------------------------------------------------------------------

    def documents(self) -> list[DocRecord]:
        return self.catalogue.documents()

    def document(self, doc_id: str) -> DocRecord:
        return self.catalogue.document(doc_id)

    def sections(self, doc_id: str) -> list[SectionRecord]:
        return self.catalogue.sections(doc_id)

    def text(self, doc_id: str) -> str:
        return self.catalogue.text(self.catalogue.document(doc_id).doc_id)

    def version(self) -> int:
        return self.catalogue.library_version()

    # --- writes -------------------------------------------------------------------------------------

    def remove(self, doc_id: str) -> DocRecord:
        with self.writer():
            doc = self.catalogue.document(doc_id)
            self.catalogue.mark_deleting(doc.doc_id)
            self.vectors.delete_doc(doc.doc_id)
            self.catalogue.purge(doc.doc_id)
            return doc


def store_paths(home: Path) -> dict[str, Path]:
    return {"home": home, "catalogue": home / "catalogue.sqlite3", "chroma": home / "chroma"}
