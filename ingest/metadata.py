"""Metadata of a fiche: Dublin Core fields, navigation, annexes (links, references,
glossary). Stored as fields and filters, not as chunk text."""

from __future__ import annotations

import re

from ingest.inline import InlineRenderer, collapse
from ingest.legifrance import legifrance_id
from ingest.model import AUDIENCES, LegalReference, Link
from ingest.tree import Element

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_AUDIENCE_NAMES = {a: a for a in AUDIENCES}


def dc(root: Element, name: str) -> str:
    element = root.first(f"dc:{name}")
    return collapse(element.text()) if element is not None else ""


def clean_title(text: str) -> str:
    """A title without the stray Markdown markers a few editors left ("**Carte d'identité", F34487)."""
    return " ".join(text.split()).strip("*_ ")


def iso_date(value: str) -> str:
    """'modified 2019-09-11' → '2019-09-11' (empty when there is no date)."""
    match = _DATE.search(value or "")
    return match.group(0) if match else ""


def normalise_audience(value: str) -> str | None:
    """'Particuliers' → 'particuliers'; None for an unknown audience."""
    key = collapse(value).lower()
    return _AUDIENCE_NAMES.get(key)


def audiences(root: Element, folder: str | None) -> list[str]:
    found = {normalise_audience(a.text()) for a in root.elements("Audience")}
    if folder:
        found.add(normalise_audience(folder) or folder)
    return [a for a in AUDIENCES if a in found] + sorted(a for a in found if a and a not in AUDIENCES)


def breadcrumb(root: Element) -> list[str]:
    trail = root.first("FilDAriane")
    return [collapse(level.text()) for level in trail.elements("Niveau")] if trail is not None else []


def themes(root: Element) -> list[str]:
    names = [_title(theme) for theme in root.elements("Theme")]
    return list(dict.fromkeys(n for n in names if n))


# Elements naming another publication with its full title, then those with a short
# label (dossier and theme navigation): full titles win.
_FULL_TITLES = ("Niveau", "QuestionReponse", "CommentFaireSi", "FicheLiee", "RechercheGuidee",
                "ServiceEnLigne", "Theme", "DossierPere", "SousThemePere")
_SHORT_LABELS = ("Fiche", "Dossier", "SousDossier", "SousTheme")


def local_titles(root: Element) -> dict[str, str]:
    """Titles of other publications named inside this document (navigation, related
    questions): enough to label most empty links without the whole corpus."""
    titles: dict[str, str] = {}
    for names in (_FULL_TITLES, _SHORT_LABELS):
        for element in root.iter():
            target = element.get("ID")
            if target and element.name in names and target not in titles:
                title = _title(element) or collapse(element.text())
                if title:
                    titles[target] = title
    titles.pop(root.get("ID", ""), None)
    return titles


def legal_references(root: Element, inline: InlineRenderer) -> list[LegalReference]:
    references: list[LegalReference] = []
    for element in root.elements("Reference"):
        url = element.get("URL", "")
        label = inline.text(element.first("Titre"))
        complement = inline.text(element.first("Complement"))
        if complement:
            label = f"{label} — {complement}" if label else complement
        reference = LegalReference(label=label or url, url=url, legifrance_id=legifrance_id(url))
        if reference not in references:
            references.append(reference)
    return references


def related_questions(root: Element, inline: InlineRenderer) -> list[Link]:
    """QuestionReponse, CommentFaireSi, VoirAussi and PourEnSavoirPlus with their labels."""
    links: list[Link] = []
    for element in root.elements():
        if element.name in ("QuestionReponse", "CommentFaireSi", "RechercheGuidee"):
            links.append(Link(inline.text(element.first("Titre")) or collapse(element.text()), element.get("ID", "")))
        elif element.name == "VoirAussi":
            links.extend(Link(_title(item), item.get("ID", "")) for item in element.elements())
        elif element.name == "PourEnSavoirPlus":
            target = element.get("URL") or element.get("ID", "")
            links.append(Link(inline.text(element.first("Titre")), target))
    return [link for i, link in enumerate(links) if link.target and link not in links[:i]]


def definitions(root: Element, name: str, inline: InlineRenderer) -> dict[str, str]:
    """Definition (glossary) or Abreviation (acronyms): term → text."""
    entries: dict[str, str] = {}
    for element in root.elements(name):
        term = inline.text(element.first("Titre"))
        body = element.first("Texte")
        text = " ".join(inline.text(p) for p in body.elements()) if body is not None else ""
        if term and text:
            entries.setdefault(term, collapse(text))
    return entries


def warnings(root: Element, inline: InlineRenderer) -> list[str]:
    """Avertissement: '2020-09-25 — title : text'."""
    out = []
    for element in root.elements("Avertissement"):
        date = iso_date(element.get("date", ""))
        title = inline.text(element.first("Titre"))
        body = element.first("Texte")
        text = " ".join(inline.text(p) for p in body.elements()) if body is not None else ""
        head = " — ".join(p for p in (date, title) if p)
        out.append(f"{head} : {collapse(text)}" if text else head)
    return out


def _title(element: Element) -> str:
    titre = element.first("Titre")
    if titre is not None:
        return collapse(titre.text())
    return ""
