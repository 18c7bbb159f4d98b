"""Légifrance URLs → stable identifiers.

Fiches cite legal texts with URLs in several generations of Légifrance formats:
`affichCode.do?idSectionTA=LEGISCTA…&cidTexte=LEGITEXT…`,
`affichCodeArticle.do?idArticle=LEGIARTI…&cidTexte=LEGITEXT…`,
`affichTexteArticle.do?idArticle=LEGIARTI…`, `affichTexte.do?cidTexte=JORFTEXT…`,
and the newer `/codes/article_lc/LEGIARTI…`, `/codes/section_lc/LEGITEXT…/LEGISCTA…`,
`/codes/id/LEGITEXT…`, `/jorf/id/JORFTEXT…`, `/loda/id/…`, `/jorf/article_jo/JORFARTI…`.
The identifier of the most precise target is what names the text.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# Most precise first: an article, then a section, then a whole text.
_PRECEDENCE = ("LEGIARTI", "JORFARTI", "KALIARTI", "LEGISCTA", "KALISCTA",
               "JORFTEXT", "LEGITEXT", "KALITEXT", "CNILTEXT", "JURITEXT", "CETATEXT", "KALICONT")
_IDENTIFIER = re.compile(r"(?<![A-Z0-9])(" + "|".join(_PRECEDENCE) + r")(\d{12})(?!\d)")
_HOSTS = ("legifrance.gouv.fr",)


def is_legifrance(url: str) -> bool:
    return any(host in url.lower() for host in _HOSTS)


def legifrance_id(url: str) -> str | None:
    """The most precise Légifrance identifier in a URL, or None.

    >>> legifrance_id("https://www.legifrance.gouv.fr/affichCodeArticle.do?idArticle=LEGIARTI000006419292&cidTexte=LEGITEXT000006070721")
    'LEGIARTI000006419292'
    """
    if not url or not is_legifrance(url):
        return None
    # The fragment only points inside the page (a section anchor of a JORF text).
    address = unquote(url.split("#", 1)[0]).upper()
    found = {prefix: prefix + digits for prefix, digits in _IDENTIFIER.findall(address)}
    for prefix in _PRECEDENCE:
        if prefix in found:
            return found[prefix]
    return None


def legifrance_url(identifier: str) -> str:
    """The current public URL for an identifier (the format Légifrance uses since 2020)."""
    prefix = identifier[:8]
    if prefix == "LEGIARTI":
        return f"https://www.legifrance.gouv.fr/codes/article_lc/{identifier}"
    if prefix in ("JORFTEXT", "JORFARTI"):
        path = "id" if prefix == "JORFTEXT" else "article_jo"
        return f"https://www.legifrance.gouv.fr/jorf/{path}/{identifier}"
    if prefix == "LEGITEXT":
        return f"https://www.legifrance.gouv.fr/codes/texte_lc/{identifier}"
    return f"https://www.legifrance.gouv.fr/search/all?query={identifier}"
