"""French BM25 sparse vectors, computed on the client.

We use Qdrant Edge's built-in `Bm25` with a French configuration (Snowball French
stemmer, French stopwords, lowercase, accent folding). It hashes each token to a
sparse index and weights documents with (k, b, avg_len); the index applies the IDF
modifier. The vectors are computed here, so a Qdrant server receives exactly the
same vectors as the embedded Edge index.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import qdrant_edge as qe

_WORD = re.compile(r"\w+")
_TERM_CACHE_SIZE = 50_000  # words typed by anyone: emptied when full
_UNSEEN = object()

# Stopwords are matched after accent folding: the folded forms of accented French
# stopwords ("à", "où", "été"…) must be listed too.
FOLDED_STOPWORDS = (
    "a", "ou", "ete", "etee", "etees", "etes", "etions", "etiez", "etaient", "etais", "etait",
    "etant", "etre", "meme", "memes", "apres", "tres", "deja", "la", "des", "ca", "voila",
)


@dataclass(frozen=True)
class SparseVec:
    indices: list[int]
    values: list[float]

    @property
    def is_empty(self) -> bool:
        return not self.indices


@dataclass(frozen=True)
class Bm25Settings:
    k: float = 1.2
    b: float = 0.75
    # Average chunk length in tokens after stopword removal (chunks are ~340 words).
    avg_len: float = 200.0
    language: str = "french"
    ascii_folding: bool = True
    implementation: str = "qdrant_edge.Bm25"
    # Changes whenever the analysis changes (stemmer, stopword lists): old indexes
    # then ask for a full rebuild instead of mixing two vocabularies.
    analyzer: str = "snowball-french+stopwords-french-folded/1"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Bm25Settings:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# Fiche titles: the same analysis; 5 terms on average after stopwords (2020 snapshot).
TITLE_BM25 = Bm25Settings(avg_len=5.0)


class FrenchBm25:
    """embed_document for indexed passages, embed_query for questions (weights 1.0)."""

    def __init__(self, settings: Bm25Settings | None = None):
        self.settings = settings or Bm25Settings()
        config = qe.Bm25Config(
            k=self.settings.k,
            b=self.settings.b,
            avg_len=self.settings.avg_len,
            language=self.settings.language,
            lowercase=True,
            ascii_folding=self.settings.ascii_folding,
            stopwords=qe.StopwordsSet(languages={qe.Language.French}, custom=set(FOLDED_STOPWORDS)),
            stemmer=qe.SnowballParams(qe.SnowballLanguage.French),
        )
        self._model = qe.Bm25(config)
        self._term_cache: dict[str, int | None] = {}  # word -> term ID, or None for a stopword

    def embed_document(self, text: str) -> SparseVec:
        vector = self._model.embed_document(text)
        return SparseVec(list(vector.indices), [float(v) for v in vector.values])

    def terms(self, text: str) -> list[int]:
        """The text's terms in their order (stemmed, stopwords left out), as the term IDs
        of the sparse vectors: "carte d'identité perdue" -> [carte, identit, perdu]."""
        found = []
        for word in _WORD.findall(text):
            term = self._term_cache.get(word, _UNSEEN)  # one read: another request may empty it
            if term is _UNSEEN:
                if len(self._term_cache) >= _TERM_CACHE_SIZE:
                    self._term_cache.clear()
                indices = self._model.embed_query(word).indices
                term = self._term_cache[word] = indices[0] if len(indices) else None
            if term is not None:
                found.append(term)
        return found

    def embed_query(self, text: str) -> SparseVec:
        vector = self._model.embed_query(text)
        return SparseVec(list(vector.indices), [float(v) for v in vector.values])
