"""Query expansion with the corpus's own acronyms ("APL", "RSA", "JDC"…)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9][A-Za-zÀ-ÖØ-öø-ÿ0-9\-]*")


class QueryExpander:
    """Appends the expansion of each known acronym found in the query.

    A token matches when typed in capitals ("APL"), or in any case when it has three
    letters or more ("apl", "Apl"); two-letter matches need capitals so that French
    words ("de", "ou") never expand.
    """

    def __init__(self, acronyms: dict[str, str]):
        self.acronyms = {k.upper(): v for k, v in acronyms.items() if k.strip()}

    def expand(self, query: str) -> str:
        additions: list[str] = []
        lowered = query.lower()
        for token in _TOKEN.findall(query):
            key = token.upper()
            expansion = self.acronyms.get(key)
            if not expansion or (len(token) < 3 and token != key):
                continue
            if expansion.lower() in lowered or expansion in additions:
                continue
            additions.append(expansion)
        return f"{query} ({'; '.join(additions)})" if additions else query
