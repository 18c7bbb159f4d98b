"""Ingest: sources -> parsed fiches -> chunks and change sets."""
