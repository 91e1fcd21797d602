"""What a search is restricted to (`Filters`), and its two compilers: Chroma's `where` and the catalogue's SQL.

Both sides of a search filter the same chunks: the dense side by the metadata ingest gave each vector
(`index/chunk_vectors.vector_meta`), the lexical side by the chunk rows that metadata was built from. Only
the catalogue (`index/`) runs `to_sql`; only the vector store's caller builds `to_chroma`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .councils import council_token


def date_num(date: str | None) -> int | None:
    """'2025-06-20' → 20250620; '2023-08' → 20230800 (month precision sorts before any day in it)."""
    if not date:
        return None
    parts = date.split("-") + ["00", "00"]
    return int(parts[0]) * 10000 + int(parts[1]) * 100 + int(parts[2])


def since_bounds(since: str) -> tuple[int, list[int]]:
    """The date_num a document dated on or after `since` has, and the month- and year-only dates that may be.

    A document dated "October 2024" (20241000) is kept by `--since 2024-10-15`: it may be from after the 15th.
    """
    n = date_num(since) or 0
    return n, [n - n % 100, n - n % 10000]


@dataclass(frozen=True)
class Filters:
    """Checked filter values (see `scope.make_filters`); `hidden` in the compilers: documents left out."""

    council: str | None = None
    kind: str | None = None
    theme: int | None = None
    qs: int | None = None
    since: str | None = None
    until: str | None = None
    include_demo: bool = False  # the demo documents too, even when real documents are in the library

    def active(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") and v is not False}

    def describe(self) -> str:
        act = self.active()
        return ", ".join(f"{k}={v}" for k, v in act.items()) if act else "no filters"

    def to_chroma(self, hidden: frozenset[str] = frozenset()) -> dict[str, Any] | None:
        """A Chroma `where` on chunk metadata (None: no restriction)."""
        clauses: list[dict[str, Any]] = []
        if hidden:
            clauses.append({"doc_id": {"$nin": sorted(hidden)}})
        if self.council:
            clauses.append({f"c_{council_token(self.council)}": True})
        if self.kind:
            clauses.append({"kind": self.kind})
        if self.theme:
            clauses.append({"theme": self.theme})
        if self.qs:
            clauses.append({"qs": self.qs})
        if self.since:
            n, vague = since_bounds(self.since)
            clauses.append({"$or": [{"date_num": {"$gte": n}}, {"date_num": {"$in": vague}}]})
        if self.until:
            clauses.append({"date_num": {"$lte": date_num(self.until)}})
        return clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)

    def to_sql(self, hidden: frozenset[str] = frozenset()) -> tuple[str, list[Any]] | None:
        """The same restriction as SQL on the catalogue's chunk rows, aliased `c` (None: no restriction).

        A NULL column never passes, as a missing metadata key never passes in Chroma.
        """
        parts: list[str] = []
        params: list[Any] = []
        if hidden:
            parts.append(f"c.doc_id NOT IN ({','.join('?' * len(hidden))})")
            params += sorted(hidden)
        if self.council:
            parts.append("instr(c.council_keys, ?) > 0")
            params.append(f" {council_token(self.council)} ")
        if self.kind:
            parts.append("c.kind = ?")
            params.append(self.kind)
        if self.theme:
            parts.append("c.theme = ?")
            params.append(self.theme)
        if self.qs:
            parts.append("c.qs = ?")
            params.append(self.qs)
        if self.since:
            n, vague = since_bounds(self.since)
            parts.append("(c.date_num >= ? OR c.date_num IN (?,?))")
            params += [n, *vague]
        if self.until:
            parts.append("c.date_num <= ?")
            params.append(date_num(self.until))
        return (" AND ".join(parts), params) if parts else None
