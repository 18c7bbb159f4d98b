"""Search: the retriever, BM25 terms, query expansion, rank fusion, confidence, language."""
