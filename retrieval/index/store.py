"""Vector stores: one collection schema on Qdrant Edge (embedded) and a Qdrant server.

Schema: one point per chunk, payload `Chunk.payload()`, keyword payload indexes on
fiche_id, audiences, type and themes, and four named vectors:
- "bm25" (sparse, IDF modifier) and "dense" (cosine) on every chunk: the passage;
- "title_bm25" and "title_dense" on the first chunk of each fiche only (guided searches
  aside: retrieval.index.indexer.has_title_field): the title, so a search on them ranks fiches.
The dense vectors are absent from a BM25-only index (built with --embedder none).
"""

from __future__ import annotations

import json
import uuid
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from ingest.atomic import write_json_atomic
from retrieval.errors import IndexCorrupt, InvalidQuery
from retrieval.search.bm25 import SparseVec
from retrieval.types import SearchFilters

DENSE = "dense"
SPARSE = "bm25"
TITLE_DENSE = "title_dense"
TITLE_SPARSE = "title_bm25"
DENSE_VECTORS = (DENSE, TITLE_DENSE)
INDEXED_FIELDS = ("fiche_id", "audiences", "type", "themes", "source")
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
    # Only on the first chunk of a fiche.
    title_sparse: SparseVec | None = None
    title_dense: np.ndarray | None = None

    @property
    def id(self) -> str:
        return point_id(self.chunk_id)

    def named_vectors(self, dense_dim: int | None) -> dict[str, SparseVec | np.ndarray]:
        vectors: dict = {SPARSE: self.sparse}
        if self.title_sparse is not None:
            vectors[TITLE_SPARSE] = self.title_sparse
        if dense_dim:
            for name, vector in ((DENSE, self.dense), (TITLE_DENSE, self.title_dense)):
                if vector is not None:
                    vectors[name] = vector
        return vectors


@dataclass(frozen=True)
class VectorQuery:
    """Nearest points to `vector` on the named vector `using`."""

    using: str
    vector: SparseVec | np.ndarray
    limit: int


@dataclass(frozen=True)
class Hit:
    """A chunk in a ranked list; its payload is fetched for the chunks kept (`payloads`)."""

    chunk_id: str
    score: float

    @property
    def fiche_id(self) -> str:
        return fiche_of(self.chunk_id)


def fiche_of(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[0]  # Chunk.id is f"{fiche_id}#{index}"


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
    def search(self, queries: list[VectorQuery], filters: SearchFilters | None) -> list[list[Hit]]:
        """One ranked list of hits (best first) per query, in one call to the engine."""

    @abstractmethod
    def chunk_payloads(self, fiche_id: str) -> list[dict]: ...

    @abstractmethod
    def payloads(self, chunk_ids: list[str]) -> dict[str, dict]:
        """The payloads of these chunks, by chunk ID (absent ones left out)."""

    def flush(self) -> None:  # noqa: B027 - optional
        pass

    @abstractmethod
    def close(self) -> None: ...

    def _require_dense(self, queries: list[VectorQuery]) -> None:
        if not self.dense_dim and any(q.using in DENSE_VECTORS for q in queries):
            raise InvalidQuery(
                "this search needs dense vectors, but this index was built without an "
                "embedder (--embedder none): use mode 'bm25' or rebuild with an embedder"
            )


# ---------------------------------------------------------------- Qdrant Edge


class EdgeStore(VectorStore):
    """A Qdrant Edge shard in a directory (no WAL: durable after flush()).

    Searches ask the shard for point IDs only: reading the payloads of every candidate
    costs most of a query's time. The chunk ID of each point ID comes from a key file
    beside the shard (chunk_ids.json, written at flush), and the payloads of the chunks
    kept are fetched afterwards.
    """

    def __init__(self, shard: qe.EdgeShard, dense_dim: int | None, keys_file: Path):
        self._shard = shard
        self.dense_dim = dense_dim
        self._keys_file = keys_file
        self._chunk_ids: dict[uuid.UUID, str] | None = None

    @classmethod
    def create(cls, path: Path, dense_dim: int | None) -> EdgeStore:
        vectors = (
            {name: qe.EdgeVectorParams(size=dense_dim, distance=qe.Distance.Cosine) for name in DENSE_VECTORS}
            if dense_dim
            else None
        )
        config = qe.EdgeConfig(
            vectors=vectors,
            sparse_vectors={
                name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf) for name in (SPARSE, TITLE_SPARSE)
            },
            wal_enabled=False,  # readers in other processes load the same shard
        )
        shard = qe.EdgeShard.create(str(path), config)
        store = cls(shard, dense_dim, _keys_file(path))
        store.index_fields()
        store._chunk_ids = {}
        return store

    def index_fields(self) -> None:
        """Payload indexes on the filtered fields (idempotent). Without one, a filtered
        search checks every point: a source filter cost a draft ~0.5 s and its dense
        list lost first hits."""
        for field in INDEXED_FIELDS:
            self._shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))

    @classmethod
    def load(cls, path: Path, dense_dim: int | None) -> EdgeStore:
        try:
            shard = qe.EdgeShard.load(str(path))
        except Exception as exc:
            raise IndexCorrupt(f"cannot load the Qdrant Edge shard at {path}: {exc}") from exc
        return cls(shard, dense_dim, _keys_file(path))

    def upsert(self, points: list[IndexPoint]) -> None:
        keys = self._keys()
        for start in range(0, len(points), 256):
            batch = [self._point(p) for p in points[start : start + 256]]
            self._shard.update(qe.UpdateOperation.upsert_points(batch))
        keys.update((uuid.UUID(p.id), p.chunk_id) for p in points)

    def _point(self, point: IndexPoint) -> qe.Point:
        vectors = {name: _edge_vector(v) for name, v in point.named_vectors(self.dense_dim).items()}
        return qe.Point(point.id, vectors, point.payload)

    def delete_fiches(self, fiche_ids: list[str]) -> None:
        if fiche_ids:
            self._shard.update(qe.UpdateOperation.delete_points_by_filter(_edge_fiche_filter(fiche_ids)))
            gone, keys = set(fiche_ids), self._keys()
            for key in [k for k, chunk_id in keys.items() if fiche_of(chunk_id) in gone]:
                del keys[key]

    def _keys(self) -> dict[uuid.UUID, str]:
        """Point ID -> chunk ID, from the key file written with the shard."""
        if self._chunk_ids is None:
            try:
                chunk_ids = json.loads(self._keys_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise IndexCorrupt(
                    f"cannot read {self._keys_file} ({exc}): rebuild with `guichet ingest --full`"
                ) from exc
            self._chunk_ids = {uuid.UUID(point_id(c)): c for c in chunk_ids}
        return self._chunk_ids

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

    def payloads(self, chunk_ids: list[str]) -> dict[str, dict]:
        records = self._shard.retrieve([point_id(c) for c in chunk_ids], True, False)
        return {r.payload["id"]: dict(r.payload) for r in records}

    def search(self, queries: list[VectorQuery], filters: SearchFilters | None) -> list[list[Hit]]:
        self._require_dense(queries)
        flt = _edge_filter(filters)
        requests = [
            qe.QueryRequest(
                limit=q.limit, query=qe.Query.Nearest(_edge_vector(q.vector), using=q.using),
                filter=flt, with_payload=False,
            )
            for q in queries
        ]
        results = self._shard.query_batch(qe.QueryBatchRequest(requests)) if requests else []
        keys = self._keys()
        return [[Hit(keys[p.id], float(p.score)) for p in points] for points in results]

    def optimize(self) -> None:
        self._shard.optimize()

    def flush(self) -> None:
        self._shard.flush()
        if self._chunk_ids is not None:
            write_json_atomic(self._keys_file, sorted(self._chunk_ids.values()))

    def close(self) -> None:
        self._shard.close()


def _keys_file(shard_path: Path) -> Path:
    return shard_path.with_name("chunk_ids.json")


def _edge_vector(vector: SparseVec | np.ndarray):
    if isinstance(vector, SparseVec):
        return qe.SparseVector(vector.indices, vector.values)
    return vector.tolist()


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
    pairs = [("audiences", filters.audience), ("type", filters.type), ("themes", filters.theme),
             ("source", filters.source)]
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
            {name: models.VectorParams(size=dense_dim, distance=models.Distance.COSINE) for name in DENSE_VECTORS}
            if dense_dim
            else {}
        )
        client.create_collection(
            collection,
            vectors_config=vectors,
            sparse_vectors_config={
                name: models.SparseVectorParams(modifier=models.Modifier.IDF) for name in (SPARSE, TITLE_SPARSE)
            },
        )
        with warnings.catch_warnings():  # the in-process :memory: mode ignores them, and says so
            warnings.simplefilter("ignore", UserWarning)
            for field in INDEXED_FIELDS:
                client.create_payload_index(collection, field, models.PayloadSchemaType.KEYWORD)
        return cls(client, collection, dense_dim)

    def upsert(self, points: list[IndexPoint]) -> None:
        from qdrant_client import models

        for start in range(0, len(points), 256):
            batch = [
                models.PointStruct(
                    id=point.id,
                    vector={name: _server_vector(v) for name, v in point.named_vectors(self.dense_dim).items()},
                    payload=point.payload,
                )
                for point in points[start : start + 256]
            ]
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

    def payloads(self, chunk_ids: list[str]) -> dict[str, dict]:
        records = self._client.retrieve(self.collection, [point_id(c) for c in chunk_ids], with_payload=True)
        return {r.payload["id"]: dict(r.payload) for r in records}

    def search(self, queries: list[VectorQuery], filters: SearchFilters | None) -> list[list[Hit]]:
        from qdrant_client import models

        self._require_dense(queries)
        if not queries:
            return []
        flt = _server_filter(filters)
        requests = [
            models.QueryRequest(
                query=_server_vector(q.vector), using=q.using, filter=flt, limit=q.limit, with_payload=["id"]
            )
            for q in queries
        ]
        responses = self._client.query_batch_points(self.collection, requests=requests)
        return [[Hit(p.payload["id"], float(p.score)) for p in r.points] for r in responses]

    def close(self) -> None:
        pass  # the client is shared with the version manager


def _server_vector(vector: SparseVec | np.ndarray):
    from qdrant_client import models

    if isinstance(vector, SparseVec):
        return models.SparseVector(indices=vector.indices, values=vector.values)
    return vector.tolist()


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
