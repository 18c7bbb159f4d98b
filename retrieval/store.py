"""Vector stores: one collection schema on Qdrant Edge (embedded) and a Qdrant server.

Schema: a named dense vector "dense" (cosine; absent for a BM25-only index), a
sparse vector "bm25" with the IDF modifier, keyword payload indexes on fiche_id,
audiences, type and themes. The payload of a point is `Chunk.payload()`.
"""

from __future__ import annotations

import uuid
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from retrieval.bm25 import SparseVec
from retrieval.errors import IndexCorrupt
from retrieval.types import SearchFilters, SearchMode

DENSE = "dense"
SPARSE = "bm25"
INDEXED_FIELDS = ("fiche_id", "audiences", "type", "themes")
RRF_K = 60
# Namespace of the deterministic point IDs: uuid5(namespace, chunk.id).
POINT_NAMESPACE = uuid.UUID("6f1c5a0e-2b8e-5d7a-9c4e-3f1d2a7b8c90")


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(POINT_NAMESPACE, chunk_id))


@dataclass
class IndexPoint:
    chunk_id: str
    payload: dict
    sparse: SparseVec
    dense: np.ndarray | None = None

    @property
    def id(self) -> str:
        return point_id(self.chunk_id)


@dataclass
class Hit:
    payload: dict
    score: float


class VectorStore(ABC):
    """One collection (Edge shard or server collection) of chunk points."""

    dense_dim: int | None

    @abstractmethod
    def upsert(self, points: list[IndexPoint]) -> None: ...

    @abstractmethod
    def delete_fiches(self, fiche_ids: list[str]) -> None:
        """Removes every chunk of these fiches."""

    @abstractmethod
    def set_fiche_payload(self, fiche_id: str, fields: dict) -> None:
        """Updates payload fields of every chunk of a fiche (no re-embedding)."""

    @abstractmethod
    def count(self, fiche_id: str | None = None) -> int: ...

    @abstractmethod
    def query(
        self,
        *,
        mode: SearchMode,
        sparse: SparseVec | None,
        dense: np.ndarray | None,
        filters: SearchFilters | None,
        limit: int,
    ) -> list[Hit]: ...

    @abstractmethod
    def chunk_payloads(self, fiche_id: str) -> list[dict]: ...

    def flush(self) -> None:  # noqa: B027 - optional
        pass

    @abstractmethod
    def close(self) -> None: ...

    def _require_dense(self, mode: SearchMode) -> None:
        if mode != SearchMode.BM25 and not self.dense_dim:
            raise ValueError(
                f"mode {mode.value!r} needs dense vectors, but this index was built "
                "without an embedder (--embedder none): use mode 'bm25' or rebuild "
                "with an embedder"
            )


# ---------------------------------------------------------------- Qdrant Edge


class EdgeStore(VectorStore):
    """A Qdrant Edge shard in a directory (no WAL: durable after flush())."""

    def __init__(self, shard: qe.EdgeShard, dense_dim: int | None):
        self._shard = shard
        self.dense_dim = dense_dim

    @classmethod
    def create(cls, path: Path, dense_dim: int | None) -> EdgeStore:
        vectors = {DENSE: qe.EdgeVectorParams(size=dense_dim, distance=qe.Distance.Cosine)} if dense_dim else None
        config = qe.EdgeConfig(
            vectors=vectors,
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            wal_enabled=False,  # readers in other processes load the same shard
        )
        shard = qe.EdgeShard.create(str(path), config)
        for field in INDEXED_FIELDS:
            shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
        return cls(shard, dense_dim)

    @classmethod
    def load(cls, path: Path, dense_dim: int | None) -> EdgeStore:
        try:
            shard = qe.EdgeShard.load(str(path))
        except Exception as exc:
            raise IndexCorrupt(f"cannot load the Qdrant Edge shard at {path}: {exc}") from exc
        return cls(shard, dense_dim)

    def upsert(self, points: list[IndexPoint]) -> None:
        for start in range(0, len(points), 256):
            batch = [self._point(p) for p in points[start : start + 256]]
            self._shard.update(qe.UpdateOperation.upsert_points(batch))

    def _point(self, point: IndexPoint) -> qe.Point:
        vector: dict = {SPARSE: qe.SparseVector(point.sparse.indices, point.sparse.values)}
        if self.dense_dim and point.dense is not None:
            vector[DENSE] = point.dense.tolist()
        return qe.Point(point.id, vector, point.payload)

    def delete_fiches(self, fiche_ids: list[str]) -> None:
        if fiche_ids:
            self._shard.update(qe.UpdateOperation.delete_points_by_filter(_edge_fiche_filter(fiche_ids)))

    def set_fiche_payload(self, fiche_id: str, fields: dict) -> None:
        self._shard.update(
            qe.UpdateOperation.set_payload_by_filter(_edge_fiche_filter([fiche_id]), fields)
        )

    def count(self, fiche_id: str | None = None) -> int:
        flt = _edge_fiche_filter([fiche_id]) if fiche_id else None
        return self._shard.count(qe.CountRequest(exact=True, filter=flt))

    def chunk_payloads(self, fiche_id: str) -> list[dict]:
        records, _ = self._shard.scroll(
            qe.ScrollRequest(limit=10_000, filter=_edge_fiche_filter([fiche_id]), with_payload=True)
        )
        return sorted((dict(r.payload) for r in records), key=lambda p: p["index"])

    def query(self, *, mode, sparse, dense, filters, limit) -> list[Hit]:
        self._require_dense(mode)
        flt = _edge_filter(filters)
        sparse_query = qe.Query.Nearest(qe.SparseVector(sparse.indices, sparse.values), using=SPARSE)
        if mode == SearchMode.BM25:
            request = qe.QueryRequest(limit=limit, query=sparse_query, filter=flt, with_payload=True)
        elif mode == SearchMode.DENSE:
            request = qe.QueryRequest(
                limit=limit, query=qe.Query.Nearest(dense.tolist(), using=DENSE),
                filter=flt, with_payload=True,
            )
        else:
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[
                    qe.Prefetch(limit=limit, query=sparse_query, filter=flt),
                    qe.Prefetch(limit=limit, query=qe.Query.Nearest(dense.tolist(), using=DENSE), filter=flt),
                ],
                query=qe.Fusion.Rrf(k=RRF_K),
                filter=flt,
                with_payload=True,
            )
        return [Hit(dict(p.payload), float(p.score)) for p in self._shard.query(request)]

    def optimize(self) -> None:
        self._shard.optimize()

    def flush(self) -> None:
        self._shard.flush()

    def close(self) -> None:
        self._shard.close()


def _edge_fiche_filter(fiche_ids: list[str]) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition("fiche_id", match=qe.MatchAny(list(fiche_ids)))])


def _edge_filter(filters: SearchFilters | None) -> qe.Filter | None:
    conditions = [
        qe.FieldCondition(key, match=qe.MatchValue(value))
        for key, value in _filter_items(filters)
    ]
    if filters and filters.fiche_ids:
        conditions.append(qe.FieldCondition("fiche_id", match=qe.MatchAny(list(filters.fiche_ids))))
    return qe.Filter(must=conditions) if conditions else None


def _filter_items(filters: SearchFilters | None) -> list[tuple[str, str]]:
    if filters is None:
        return []
    pairs = [("audiences", filters.audience), ("type", filters.type), ("themes", filters.theme)]
    return [(key, value) for key, value in pairs if value]


# ---------------------------------------------------------------- Qdrant server


class ServerStore(VectorStore):
    """A collection on a Qdrant server or cluster, through qdrant-client."""

    def __init__(self, client, collection: str, dense_dim: int | None):
        self._client = client
        self.collection = collection
        self.dense_dim = dense_dim

    @classmethod
    def create(cls, client, collection: str, dense_dim: int | None) -> ServerStore:
        from qdrant_client import models

        vectors = (
            {DENSE: models.VectorParams(size=dense_dim, distance=models.Distance.COSINE)}
            if dense_dim
            else {}
        )
        client.create_collection(
            collection,
            vectors_config=vectors,
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        with warnings.catch_warnings():  # the in-process :memory: mode ignores them, and says so
            warnings.simplefilter("ignore", UserWarning)
            for field in INDEXED_FIELDS:
                client.create_payload_index(collection, field, models.PayloadSchemaType.KEYWORD)
        return cls(client, collection, dense_dim)

    def upsert(self, points: list[IndexPoint]) -> None:
        from qdrant_client import models

        for start in range(0, len(points), 256):
            batch = []
            for point in points[start : start + 256]:
                vector: dict = {SPARSE: models.SparseVector(indices=point.sparse.indices, values=point.sparse.values)}
                if self.dense_dim and point.dense is not None:
                    vector[DENSE] = point.dense.tolist()
                batch.append(models.PointStruct(id=point.id, vector=vector, payload=point.payload))
            self._client.upsert(self.collection, batch, wait=True)

    def copy_from(self, source: str) -> None:
        """Copies every point (vectors and payload) of another collection."""
        from qdrant_client import models

        offset = None
        while True:
            records, offset = self._client.scroll(
                source, limit=256, offset=offset, with_payload=True, with_vectors=True
            )
            if records:
                self._client.upsert(
                    self.collection,
                    [models.PointStruct(id=r.id, vector=r.vector, payload=r.payload) for r in records],
                    wait=True,
                )
            if offset is None:
                return

    def delete_fiches(self, fiche_ids: list[str]) -> None:
        from qdrant_client import models

        if fiche_ids:
            self._client.delete(
                self.collection, models.FilterSelector(filter=_server_fiche_filter(fiche_ids)), wait=True
            )

    def set_fiche_payload(self, fiche_id: str, fields: dict) -> None:
        self._client.set_payload(
            self.collection, payload=fields, points=_server_fiche_filter([fiche_id]), wait=True
        )

    def count(self, fiche_id: str | None = None) -> int:
        flt = _server_fiche_filter([fiche_id]) if fiche_id else None
        return self._client.count(self.collection, count_filter=flt, exact=True).count

    def chunk_payloads(self, fiche_id: str) -> list[dict]:
        records, _ = self._client.scroll(
            self.collection, scroll_filter=_server_fiche_filter([fiche_id]), limit=10_000, with_payload=True
        )
        return sorted((dict(r.payload) for r in records), key=lambda p: p["index"])

    def query(self, *, mode, sparse, dense, filters, limit) -> list[Hit]:
        from qdrant_client import models

        self._require_dense(mode)
        flt = _server_filter(filters)
        sparse_query = models.SparseVector(indices=sparse.indices, values=sparse.values)
        if mode == SearchMode.BM25:
            kwargs = dict(query=sparse_query, using=SPARSE)
        elif mode == SearchMode.DENSE:
            kwargs = dict(query=dense.tolist(), using=DENSE)
        else:
            kwargs = dict(
                prefetch=[
                    models.Prefetch(query=sparse_query, using=SPARSE, limit=limit, filter=flt),
                    models.Prefetch(query=dense.tolist(), using=DENSE, limit=limit, filter=flt),
                ],
                query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
            )
        response = self._client.query_points(
            self.collection, query_filter=flt, limit=limit, with_payload=True, **kwargs
        )
        return [Hit(dict(p.payload), float(p.score)) for p in response.points]

    def close(self) -> None:
        pass  # the client is shared with the version manager


def _server_fiche_filter(fiche_ids: list[str]):
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key="fiche_id", match=models.MatchAny(any=list(fiche_ids)))])


def _server_filter(filters: SearchFilters | None):
    from qdrant_client import models

    conditions = [
        models.FieldCondition(key=key, match=models.MatchValue(value=value))
        for key, value in _filter_items(filters)
    ]
    if filters and filters.fiche_ids:
        conditions.append(
            models.FieldCondition(key="fiche_id", match=models.MatchAny(any=list(filters.fiche_ids)))
        )
    return models.Filter(must=conditions) if conditions else None
