"""The hybrid retriever as a LangChain `BaseRetriever`, so the library plugs into any LangChain chain.

Apart from retriever.py because LangChain costs about a second to import, which a search does not need.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..filters import Filters
from .retriever import HybridRetriever


class LangChainRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain retriever: Documents carry doc id, section and offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: HybridRetriever
    filters: Filters = Filters()
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=p.text,
                metadata={k: v for k, v in p.to_json().items() if k != "text" and v is not None},
            )
            for p in self.hybrid.search(query, self.filters, self.k)
        ]
