"""Query expansion with the corpus's own acronyms ("APL", "RSA", "JDC"…)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][A-Za-zÀ-ÖØ-öø-ÿ0-9\-]*")


class QueryExpander:
    """Appends the expansion of each known acronym found in the query.

    A token matches when typed in capitals ("APL"), or in any case when it has three
    letters or more ("apl", "Apl") and is not `ambiguous` (an acronym whose lowercase
    form is an ordinary word of the corpus: "pas", "aide"); two-letter matches need
    capitals so that French words ("de", "ou") never expand.
    """

    def __init__(self, acronyms: dict[str, str], ambiguous: list[str] | set[str] = ()):
        self.acronyms = {k.upper(): v for k, v in acronyms.items() if k.strip()}
        self.ambiguous = {a.upper() for a in ambiguous}

    def expand(self, query: str) -> str:
        additions: list[str] = []
        lowered = query.lower()
        for token in _TOKEN.findall(query):
            key = token.upper()
            expansion = self.acronyms.get(key)
            if not expansion or (token != key and (len(token) < 3 or key in self.ambiguous)):
                continue
            if expansion.lower() in lowered or expansion in additions:
                continue
            additions.append(expansion)
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
