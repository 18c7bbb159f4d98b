"""The index: Qdrant stores (embedded Edge, a server), its versions, the indexer that
applies a change set, and the ingest-then-index pipeline."""
