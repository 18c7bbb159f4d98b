"""llama-index integration: guichet's retriever as a llama-index BaseRetriever.

    from retrieval import open_retriever
    from retrieval.llamaindex import GuichetRetriever
    retriever = GuichetRetriever(open_retriever(), k=5)
    nodes = retriever.retrieve("Comment refaire sa carte grise ?")
    # or: RetrieverQueryEngine.from_args(retriever, llm=...)
"""

from __future__ import annotations

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from retrieval.base import Retriever
from retrieval.types import Passage, SearchFilters, SearchMode

# Metadata kept out of the embedding and LLM views of a node (long or technical).
_HIDDEN = ["breadcrumb", "audiences", "themes", "words", "index", "chunk_id", "score", "rank", "confidence"]


class GuichetRetriever(BaseRetriever):
    """Returns the chunk-level passages of a guichet search as NodeWithScore.

    Each TextNode has the chunk ID as its ID, the chunk text, and the chunk's metadata
    (fiche_id, title, section, url, date, type, audiences, themes, breadcrumb); its
    SOURCE relationship points to the fiche.
    """

    def __init__(
        self,
        retriever: Retriever,
        *,
        k: int = 5,
        mode: SearchMode = SearchMode.HYBRID,
        filters: SearchFilters | None = None,
        passages_per_fiche: int = 2,
        callback_manager: CallbackManager | None = None,
    ):
        super().__init__(callback_manager=callback_manager)
        self._retriever = retriever
        self._k = k
        self._mode = mode
        self._filters = filters
        self._passages_per_fiche = passages_per_fiche

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self._retriever.search(
            query_bundle.query_str,
            k=self._k,
            mode=self._mode,
            filters=self._filters,
            passages_per_fiche=self._passages_per_fiche,
        )
        return [NodeWithScore(node=passage_node(p, result.confidence), score=p.score) for p in result.passages]


def passage_node(passage: Passage, confidence: float = 0.0) -> TextNode:
    chunk = passage.chunk
    metadata = {
        "fiche_id": chunk.fiche_id,
        "chunk_id": chunk.id,
        "index": chunk.index,
        "title": chunk.title,
        "section": chunk.section,
        "breadcrumb": " > ".join(chunk.breadcrumb),
        "url": chunk.url,
        "date": chunk.date,
        "type": chunk.type,
        "audiences": list(chunk.audiences),
        "themes": list(chunk.themes),
        "words": chunk.words,
        "rank": passage.rank,
        "confidence": confidence,
    }
    return TextNode(
        id_=chunk.id,
        text=chunk.text,
        metadata=metadata,
        excluded_embed_metadata_keys=list(_HIDDEN),
        excluded_llm_metadata_keys=list(_HIDDEN),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.fiche_id, metadata={"url": chunk.url})},
    )
