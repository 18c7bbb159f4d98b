"""Atomic index versions: readers never see a half-built index.

Edge layout (GUICHET_INDEX_DIR):
    CURRENT                  the published version number, replaced with os.replace
    versions/<n>/shard/      the Qdrant Edge shard
    versions/<n>/fiches.sqlite  the stored fiches (Fiche.to_dict), looked up by ID
    versions/<n>/build.json  how it was built (written last: a version without it is
                             incomplete), manifest.json, acronyms.json, summary.json
    embeddings/              the embedding cache, shared by all versions
    .lock                    held (flock) by the one build running

Server: collection <name>_v<n> (chunks) and <name>_v<n>_docs (fiches and metadata,
payload only), the alias <name> pointing to the published chunks collection.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sqlite3
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.atomic import write_json_atomic
from retrieval.base import Embedder
from retrieval.errors import (
    EmbedderMismatch,
    IndexBusy,
    IndexCorrupt,
    IndexNotFound,
    IndexOutdated,
    IndexUnavailable,
    is_connection_error,
)
from retrieval.index.store import EdgeStore, ServerStore, VectorStore

BUILD_INFO = "build"
INDEX_FORMAT = 3
# What the chunks' payloads hold. Search reads every chunk format (a field a payload lacks
# gets its default); ingest rebuilds an index of an older one (from the embedding cache:
# the chunks' texts are unchanged). 2: a chunk knows the fiche's Situation it is under.
CHUNK_FORMAT = 2


def crash_point(stage: str) -> None:
    """Test hook: GUICHET_TEST_CRASH_AT=<stage> kills the process there (like kill -9)."""
    if os.environ.get("GUICHET_TEST_CRASH_AT") == stage:
        os._exit(137)


def no_index_message(location: str) -> str:
    return (f"no index at {location}: run `guichet ingest` to index the bundled sample there "
            "(or `guichet ingest --source …`; GUICHET_DATA_DIR or GUICHET_INDEX_DIR choose the folder)")


NO_EMBEDDER = "none"


def embedder_name(embedder: Embedder | None) -> str:
    return embedder.name if embedder is not None else NO_EMBEDDER


def check_build(info: dict, embedder: Embedder | None, location: str) -> None:
    """Refuses an index this code cannot search: another format, another embedder."""
    if info.get("format") != INDEX_FORMAT:
        raise IndexOutdated(
            f"the index at {location} has format {info.get('format')!r}; this version of guichet "
            f"reads format {INDEX_FORMAT} (format 2 added title vectors, 3 left guided searches "
            "without them): rebuild it with "
            "`guichet ingest --full --source …`"
        )
    built_with = info.get("embedder", NO_EMBEDDER)
    configured = embedder_name(embedder)
    if built_with != configured:
        raise EmbedderMismatch(
            f"the index at {location} was built with embedder {built_with!r} "
            f"(spec {info.get('embedder_spec', '?')!r}) but embedder {configured!r} is configured: "
            f"set GUICHET_EMBEDDER={info.get('embedder_spec', '…')} (or --embedder), "
            "or rebuild with `guichet ingest --full --embedder …`"
        )



class IndexVersion(ABC):
    """One version of the index: chunk vectors, stored fiches and metadata."""

    number: int
    store: VectorStore

    @abstractmethod
    def put_fiches(self, fiches: list[dict]) -> None: ...

    @abstractmethod
    def delete_fiches(self, fiche_ids: list[str]) -> None: ...

    @abstractmethod
    def get_fiche(self, fiche_id: str) -> dict | None: ...

    @abstractmethod
    def iter_fiches(self) -> Iterator[dict]: ...

    @abstractmethod
    def write_meta(self, name: str, data) -> None: ...

    @abstractmethod
    def read_meta(self, name: str, default=None): ...

    def build_info(self) -> dict:
        info = self.read_meta(BUILD_INFO)
        if not isinstance(info, dict):
            raise IndexCorrupt(f"index version {self.number} has no build information")
        return info

    def exists(self) -> bool:
        """False once this version was removed (a reader must not query it)."""
        return True

    @abstractmethod
    def close(self) -> None: ...


class VersionedIndex(ABC):
    """Where versions live, and the atomic switch between them."""

    location: str

    @abstractmethod
    def current_number(self) -> int | None: ...

    @abstractmethod
    def open_version(self, number: int) -> IndexVersion: ...

    def open_current(self) -> IndexVersion:
        number = self.current_number()
        if number is None:
            raise IndexNotFound(no_index_message(self.location))
        return self.open_version(number)

    @abstractmethod
    def begin(self, dense_dim: int | None, copy_current: bool) -> IndexVersion:
        """A new writable version, empty or a copy of the current one."""

    @abstractmethod
    def publish(self, version: IndexVersion) -> None: ...

    @abstractmethod
    def collect_garbage(self) -> list[int]:
        """Removes versions other than the current and the previous one."""

    @contextmanager
    def build_lock(self):
        yield


# ---------------------------------------------------------------- Qdrant Edge


class EdgeVersion(IndexVersion):
    def __init__(self, directory: Path, number: int, store: VectorStore, writable: bool):
        self.directory = directory
        self.number = number
        self.store = store
        self._writable = writable
        self._db = self._connect(directory / "fiches.sqlite", writable)
        self._db_lock = threading.Lock()

    @staticmethod
    def _connect(path: Path, writable: bool) -> sqlite3.Connection:
        if writable:
            db = sqlite3.connect(path, check_same_thread=False)
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("CREATE TABLE IF NOT EXISTS fiches (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
            db.commit()
            return db
        if not path.exists():
            raise IndexCorrupt(f"index version at {path.parent} has no fiches.sqlite")
        # Published versions never change: immutable=1 skips locking and journal files.
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    def put_fiches(self, fiches: list[dict]) -> None:
        with self._db_lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO fiches VALUES (?, ?)",
                [(f["id"], json.dumps(f, ensure_ascii=False)) for f in fiches],
            )
            self._db.commit()

    def delete_fiches(self, fiche_ids: list[str]) -> None:
        with self._db_lock:
            self._db.executemany("DELETE FROM fiches WHERE id = ?", [(i,) for i in fiche_ids])
            self._db.commit()

    def get_fiche(self, fiche_id: str) -> dict | None:
        with self._db_lock:
            row = self._db.execute("SELECT data FROM fiches WHERE id = ?", (fiche_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def iter_fiches(self) -> Iterator[dict]:
        with self._db_lock:
            rows = self._db.execute("SELECT data FROM fiches ORDER BY id").fetchall()
        for (data,) in rows:
            yield json.loads(data)

    def write_meta(self, name: str, data) -> None:
        write_json_atomic(self.directory / f"{name}.json", data)

    def read_meta(self, name: str, default=None):
        path = self.directory / f"{name}.json"
        if not path.exists():
            return default
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"cannot read {path}: {exc}") from exc

    def close(self) -> None:
        with self._db_lock:
            self._db.close()
        self.store.close()


class EdgeIndex(VersionedIndex):
    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self.location = str(self.index_dir)
        self.versions_dir = self.index_dir / "versions"
        self.pointer = self.index_dir / "CURRENT"

    def current_number(self) -> int | None:
        try:
            text = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        if not text.isdigit():
            raise IndexCorrupt(f"the pointer file {self.pointer} is corrupt ({text[:20]!r}): {_rebuild_hint()}")
        return int(text)

    def pointer_stamp(self) -> tuple[int, int] | None:
        """Changes when the pointer is replaced (readers use it to follow new versions)."""
        try:
            stat = self.pointer.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns)

    def open_version(self, number: int) -> EdgeVersion:
        directory = self.versions_dir / str(number)
        if not (directory / "build.json").exists():
            raise IndexCorrupt(
                f"index at {self.index_dir} points to version {number}, which is missing or "
                f"incomplete: {_rebuild_hint()}"
            )
        try:
            info = json.loads((directory / "build.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"cannot read {directory / 'build.json'} ({exc}): {_rebuild_hint()}") from exc
        if not (directory / "shard").is_dir():
            raise IndexCorrupt(f"index version {directory} has no shard: {_rebuild_hint()}")
        store = EdgeStore.load(directory / "shard", info.get("dim") or None)
        return EdgeVersion(directory, number, store, writable=False)

    def begin(self, dense_dim: int | None, copy_current: bool) -> EdgeVersion:
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        current = self.current_number()
        self._remove_unpublished(current)
        number = max([current or 0, *self._numbers()]) + 1
        directory = self.versions_dir / str(number)
        if copy_current and current is not None:
            source = self.versions_dir / str(current)
            shutil.copytree(source, directory, ignore=shutil.ignore_patterns("build.json", "summary.json"))
            store = EdgeStore.load(directory / "shard", dense_dim)
            store.index_fields()  # a version built before a field was indexed gets it now
        else:
            directory.mkdir()
            store = EdgeStore.create(directory / "shard", dense_dim)
        return EdgeVersion(directory, number, store, writable=True)

    def publish(self, version: IndexVersion) -> None:
        assert isinstance(version, EdgeVersion)
        version.store.flush()
        _fsync_tree(version.directory)
        tmp = self.index_dir / f".CURRENT.{os.getpid()}.tmp"
        with open(tmp, "w") as handle:
            handle.write(f"{version.number}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.index_dir)

    def collect_garbage(self) -> list[int]:
        current = self.current_number()
        if current is None:
            return []
        complete = [n for n in self._numbers() if n < current and (self.versions_dir / str(n) / "build.json").exists()]
        keep = {current, max(complete)} if complete else {current}
        removed = [n for n in self._numbers() if n not in keep and n < current]
        for number in removed:
            shutil.rmtree(self.versions_dir / str(number), ignore_errors=True)
        return removed

    @contextmanager
    def build_lock(self):
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IndexBusy(f"another `guichet ingest` is updating the index at {self.index_dir}") from exc
            yield  # the lock goes with the process, even on kill -9

    def _numbers(self) -> list[int]:
        if not self.versions_dir.exists():
            return []
        return sorted(int(p.name) for p in self.versions_dir.iterdir() if p.name.isdigit())

    def _remove_unpublished(self, current: int | None) -> None:
        """Leftovers of interrupted builds: versions above the current one."""
        for number in self._numbers():
            if current is None or number > current:
                shutil.rmtree(self.versions_dir / str(number), ignore_errors=True)


def _rebuild_hint() -> str:
    return "rebuild it with `guichet ingest --full --source …`"


def _fsync_tree(directory: Path) -> None:
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- Qdrant server

_VERSIONED = re.compile(r"^(?P<base>.+)_v(?P<n>\d+)$")
_DOC_NAMESPACE = uuid.UUID("0b6b7c1e-7f37-5c4e-8d0e-5a3b1c2d4e6f")


class AnswerOrUnavailable:
    """A qdrant-client whose calls raise IndexUnavailable, naming the server, on a timeout
    or a refused connection (other errors pass through unchanged)."""

    def __init__(self, client, location: str):
        self._client = client
        self._location = location

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                return attribute(*args, **kwargs)
            except Exception as exc:
                if is_connection_error(exc):
                    raise IndexUnavailable(f"the Qdrant server at {self._location} does not answer: {exc}") from exc
                raise

        return call


class ServerVersion(IndexVersion):
    def __init__(self, client, base: str, number: int, store: ServerStore):
        self._client = client
        self.number = number
        self.store = store
        self.docs = f"{base}_v{number}_docs"

    def put_fiches(self, fiches: list[dict]) -> None:
        from qdrant_client import models

        for start in range(0, len(fiches), 128):
            points = [
                models.PointStruct(id=_doc_id("fiche", f["id"]), vector={}, payload={"kind": "fiche", "fiche_id": f["id"], "data": f})
                for f in fiches[start : start + 128]
            ]
            self._client.upsert(self.docs, points, wait=True)

    def delete_fiches(self, fiche_ids: list[str]) -> None:
        if fiche_ids:
            self._client.delete(self.docs, [_doc_id("fiche", i) for i in fiche_ids], wait=True)

    def get_fiche(self, fiche_id: str) -> dict | None:
        records = self._client.retrieve(self.docs, [_doc_id("fiche", fiche_id)], with_payload=True)
        return records[0].payload["data"] if records else None

    def iter_fiches(self) -> Iterator[dict]:
        from qdrant_client import models

        only_fiches = models.Filter(must=[models.FieldCondition(key="kind", match=models.MatchValue(value="fiche"))])
        offset = None
        while True:
            records, offset = self._client.scroll(self.docs, scroll_filter=only_fiches, limit=256, offset=offset, with_payload=True)
            for record in records:
                yield record.payload["data"]
            if offset is None:
                return

    def write_meta(self, name: str, data) -> None:
        from qdrant_client import models

        payload = {"kind": "meta", "name": name, "json": json.dumps(data, ensure_ascii=False)}
        self._client.upsert(self.docs, [models.PointStruct(id=_doc_id("meta", name), vector={}, payload=payload)], wait=True)

    def read_meta(self, name: str, default=None):
        records = self._client.retrieve(self.docs, [_doc_id("meta", name)], with_payload=True)
        return json.loads(records[0].payload["json"]) if records else default

    def exists(self) -> bool:
        return all(self._client.collection_exists(name) for name in (self.store.collection, self.docs))

    def close(self) -> None:
        pass


class ServerIndex(VersionedIndex):
    """Versions as collections on a Qdrant server; the alias is the pointer."""

    def __init__(self, client, alias: str, location: str):
        # Versions and stores share this client: one place turns "no answer" into IndexUnavailable.
        self._client = AnswerOrUnavailable(client, location)
        self.alias = alias
        self.location = location

    @classmethod
    def connect(cls, url: str, api_key: str | None, alias: str, timeout_s: float) -> ServerIndex:
        from qdrant_client import QdrantClient

        if url == ":memory:":
            client = QdrantClient(":memory:")
        else:
            client = QdrantClient(
                url=url, api_key=api_key, timeout=max(1, int(round(timeout_s))), check_compatibility=False
            )
        return cls(client, alias, f"{url} (collection alias {alias!r})")

    def current_number(self) -> int | None:
        aliases = self._client.get_aliases().aliases
        for alias in aliases:
            if alias.alias_name == self.alias:
                match = _VERSIONED.match(alias.collection_name)
                if not match:
                    raise IndexCorrupt(f"alias {self.alias!r} points to an unexpected collection {alias.collection_name!r}")
                return int(match["n"])
        return None

    def open_version(self, number: int) -> ServerVersion:
        info = ServerVersion(self._client, self.alias, number, None).read_meta(BUILD_INFO)
        if info is None:
            raise IndexCorrupt(f"version {number} at {self.location} has no build information: {_rebuild_hint()}")
        store = ServerStore(self._client, self._name(number), info.get("dim") or None)
        return ServerVersion(self._client, self.alias, number, store)

    def begin(self, dense_dim: int | None, copy_current: bool) -> ServerVersion:
        current = self.current_number()
        numbers = self._numbers()
        for number in numbers:  # leftovers of interrupted builds
            if current is None or number > current:
                self._drop(number)
        number = max([current or 0, *numbers]) + 1
        store = ServerStore.create(self._client, self._name(number), dense_dim)
        self._client.create_collection(f"{self._name(number)}_docs", vectors_config={})
        version = ServerVersion(self._client, self.alias, number, store)
        if copy_current and current is not None:
            store.copy_from(self._name(current))
            previous = self.open_version(current)
            version.put_fiches(list(previous.iter_fiches()))
            for name in ("manifest", "acronyms", "ambiguous_acronyms"):
                version.write_meta(name, previous.read_meta(name))
        return version

    def publish(self, version: IndexVersion) -> None:
        from qdrant_client import models

        actions = []
        if self.current_number() is not None:
            actions.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
        actions.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=self._name(version.number), alias_name=self.alias)
            )
        )
        self._client.update_collection_aliases(change_aliases_operations=actions)

    def collect_garbage(self) -> list[int]:
        current = self.current_number()
        if current is None:
            return []
        older = [n for n in self._numbers() if n < current]
        removed = older[:-1]
        for number in removed:
            self._drop(number)
        return removed

    def _name(self, number: int) -> str:
        return f"{self.alias}_v{number}"

    def _numbers(self) -> list[int]:
        names = [c.name for c in self._client.get_collections().collections]
        numbers = set()
        for name in names:
            match = _VERSIONED.match(name)
            if match and match["base"] == self.alias:
                numbers.add(int(match["n"]))
        return sorted(numbers)

    def _drop(self, number: int) -> None:
        for name in (self._name(number), f"{self._name(number)}_docs"):
            if self._client.collection_exists(name):
                self._client.delete_collection(name)


def _doc_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(_DOC_NAMESPACE, f"{kind}:{key}"))
