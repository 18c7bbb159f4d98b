"""The one interface every source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ingest.model import DEFAULT_SOURCE, Failure, Fiche, merge_audiences


class SourceError(Exception):
    """A source that cannot be opened at all (missing path, no npm and no cache…)."""


@dataclass
class ReadProgress:
    source: str
    read: int  # documents read so far, failures included
    failed: int
    origin: str  # the document just read
    done: bool = False


ProgressCallback = Callable[[ReadProgress], None]


class Source(ABC):
    """Yields the fiches of a source, deduplicated by ID, and a Failure per document
    that could not be read (the run goes on without it)."""

    name: str = "source"
    # The key of ingest.model.SOURCES its fiches carry (deletions are per publisher).
    publisher: str = DEFAULT_SOURCE

    @abstractmethod
    def documents(self) -> Iterator[Fiche | Failure]:
        """Every document as read; an ID may come several times (one per audience)."""

    def fiches(self, progress: ProgressCallback | None = None) -> Iterator[Fiche | Failure]:
        """Failures as they happen, then the fiches once all documents are read
        (copies of an ID are merged: first copy kept, audiences united)."""
        by_id: dict[str, Fiche] = {}
        read = failed = 0
        origin = ""
        for item in self.documents():
            read += 1
            origin = item.origin
            if isinstance(item, Failure):
                failed += 1
                yield item
            elif item.id in by_id:
                merge_audiences(by_id[item.id], item.audiences)
            else:
                by_id[item.id] = item
            if progress is not None:
                progress(ReadProgress(self.name, read, failed, origin))
        if progress is not None:
            progress(ReadProgress(self.name, read, failed, origin, done=True))
        yield from by_id.values()
