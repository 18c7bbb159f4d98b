"""Query expansion: the corpus's own acronyms ("APL", "RSA", "JDC"…) and everyday words.

Citizens write "caution", "proprio", "chômage", "mutuelle" where the fiches say "dépôt
de garantie", "bailleur", "allocation chômage", "complémentaire santé": the everyday
lexicon (retrieval/data/everyday_words.tsv) appends the fiches' words to a query that
uses the citizen's.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][A-Za-zÀ-ÖØ-öø-ÿ0-9\-]*")


LEXICON_FILE = "everyday_words.tsv"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class EverydayLexicon:
    """Everyday phrases -> the fiches' words, matched on folded text at word boundaries
    (a trailing * in a phrase matches any ending: "flashe*" matches "flashé", "flashée")."""

    def __init__(self, entries: list[tuple[str, str]]):
        self.entries = [(self._pattern(phrase), words) for phrase, words in entries]

    @staticmethod
    def _pattern(phrase: str) -> re.Pattern:
        folded = _fold(phrase.strip())
        stem = re.escape(folded.rstrip("*")).replace(r"\ ", r"\s+")
        tail = r"[\w'-]*" if folded.endswith("*") else ""
        return re.compile(rf"(?<![\w'-]){stem}{tail}(?![\w-])")

    @classmethod
    def parse(cls, text: str, where: str = LEXICON_FILE) -> EverydayLexicon:
        entries = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            phrase, tab, words = line.partition("\t")
            if not tab or not phrase.strip() or not words.strip():
                raise ValueError(f"{where}:{number}: expected 'phrase<TAB>fiche words'")
            entries.append((phrase, words.strip()))
        return cls(entries)

    def expansions(self, query: str) -> list[str]:
        folded = _fold(query)
        return [words for pattern, words in self.entries if pattern.search(folded)]


@lru_cache(maxsize=1)
def everyday_lexicon() -> EverydayLexicon:
    """The lexicon shipped with guichet."""
    text = resources.files("retrieval").joinpath("data", LEXICON_FILE).read_text(encoding="utf-8")
    return EverydayLexicon.parse(text)


class QueryExpander:
    """Appends the expansion of each known acronym and everyday phrase found in the query.

    A token matches when typed in capitals ("APL"), or in any case when it has three
    letters or more ("apl", "Apl") and is not `ambiguous` (an acronym whose lowercase
    form is an ordinary word of the corpus: "pas", "aide"); two-letter matches need
    capitals so that French words ("de", "ou") never expand.
    """

    def __init__(self, acronyms: dict[str, str], ambiguous: list[str] | set[str] = (),
                 lexicon: EverydayLexicon | None = None):
        self.acronyms = {k.upper(): v for k, v in acronyms.items() if k.strip()}
        self.ambiguous = {a.upper() for a in ambiguous}
        self.lexicon = lexicon

    def expand(self, query: str, *, acronyms: bool = True) -> str:
        """The query with its expansions appended in parentheses; `acronyms=False`: the
        everyday lexicon's only."""
        additions: list[str] = []
        lowered = query.lower()
        for token in _TOKEN.findall(query) if acronyms else ():
            key = token.upper()
            expansion = self.acronyms.get(key)
            if not expansion or (token != key and (len(token) < 3 or key in self.ambiguous)):
                continue
            if expansion.lower() in lowered or expansion in additions:
                continue
            additions.append(expansion)
        for words in self.lexicon.expansions(query) if self.lexicon else []:
            if words.lower() not in lowered and words not in additions:
                additions.append(words)
        return f"{query} ({'; '.join(additions)})" if additions else query


def ambiguous_acronyms(acronyms: dict[str, str], texts) -> list[str]:
    """Acronyms whose lowercase form occurs as a lowercase word in `texts`."""
    lowered = {a.lower(): a for a in acronyms}
    found = set()
    for text in texts:
        for token in _TOKEN.findall(text):
            if token in lowered:
                found.add(lowered[token])
    return sorted(found)
