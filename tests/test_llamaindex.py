"""guichet's retriever inside llama-index."""

from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers.no_text import NoText
from llama_index.core.schema import NodeRelationship, NodeWithScore, TextNode

from retrieval.index.versions import EdgeIndex
from retrieval.llamaindex import GuichetRetriever
from retrieval.search.retriever import IndexRetriever
from retrieval.types import SearchFilters, SearchMode


def test_retrieve_returns_scored_text_nodes_with_chunk_metadata(sample_retriever, sample_fiches):
    fiche = next(f for f in sample_fiches if f.is_content and f.type.startswith("Fiche Question"))
    nodes = GuichetRetriever(sample_retriever, k=3).retrieve(fiche.title)
    assert nodes and all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
    assert fiche.id in {n.node.metadata["fiche_id"] for n in nodes}
    node = next(n.node for n in nodes if n.node.metadata["fiche_id"] == fiche.id)
    assert node.node_id.startswith(f"{fiche.id}#") and node.text.startswith(fiche.title)
    assert node.metadata["url"] == fiche.url and node.metadata["date"] == fiche.date
    assert node.relationships[NodeRelationship.SOURCE].node_id == fiche.id
    assert "breadcrumb" not in node.get_content(metadata_mode="llm").split("\n\n")[0]
    assert "title:" in node.get_content(metadata_mode="llm")


def test_filters_and_mode_pass_through(sample_bm25_index_dir):
    retriever = IndexRetriever(EdgeIndex(sample_bm25_index_dir), None)
    li = GuichetRetriever(retriever, k=3, mode=SearchMode.BM25, filters=SearchFilters(type="Fiche Question-réponse"))
    nodes = li.retrieve("impôt sur le revenu déclaration")
    assert nodes and {n.node.metadata["type"] for n in nodes} == {"Fiche Question-réponse"}
    retriever.close()


def test_drops_into_a_query_engine(sample_bm25_index_dir):
    retriever = IndexRetriever(EdgeIndex(sample_bm25_index_dir), None)
    # "no_text" returns the retrieved nodes without calling the LLM; llama-index still
    # wants one configured, and its MockLLM is never asked anything here.
    # (its "no_text" factory path ignores the llm argument, hence NoText built directly)
    engine = RetrieverQueryEngine(GuichetRetriever(retriever, k=2, mode=SearchMode.BM25), NoText(llm=MockLLM()))
    response = engine.query("Comment obtenir un extrait d'acte de naissance ?")
    assert response.source_nodes and response.source_nodes[0].node.metadata["url"].startswith("https://")
    retriever.close()
