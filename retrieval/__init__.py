"""Retrieval: the Qdrant index (embedded Edge or a server) and hybrid search."""
