"""Inline text of the fiches: paragraphs with links, emphasis, values, exponents.

Text nodes are not trimmed and hold non-breaking spaces, so inline content is first
concatenated raw, then whitespace is collapsed once per paragraph.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ingest.model import Link
from ingest.tree import Element

log = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_POINT = re.compile(r" ([.,])(?=\s|$)")

# Elements whose text is kept as is.
_PLAIN = {"Valeur", "Expression", "TermeEtranger", "Contenu", "Source"}
# Block elements met inside inline text (a definition's list…): kept, space-separated.
_BLOCKS = {"Paragraphe", "Titre", "Texte", "Liste", "Item", "Chapitre", "SousChapitre"}
# Elements that carry no reader-visible text.
_SILENT = {"Condition", "estVrai", "estIndefini", "ou", "et", "SiSelectionne", "affecteVrai",
           "affecteFaux", "Credits", "Description", "Illustration"}


def collapse(text: str) -> str:
    """One space for any run of whitespace (non-breaking ones included), trimmed."""
    return _SPACE_BEFORE_POINT.sub(r"\1", _SPACES.sub(" ", text)).strip()


@dataclass
class LinkCollector:
    """Links met while rendering a document, in document order, without duplicates."""

    titles: Mapping[str, str] = field(default_factory=dict)
    internal: list[Link] = field(default_factory=list)
    external: list[Link] = field(default_factory=list)
    glossary_refs: list[str] = field(default_factory=list)

    def add_internal(self, label: str, target: str) -> None:
        _append_unique(self.internal, Link(label, target))

    def add_external(self, label: str, url: str) -> None:
        _append_unique(self.external, Link(label, url))

    def title_of(self, fiche_id: str) -> str:
        return self.titles.get(fiche_id) or fiche_id


def _append_unique(links: list[Link], link: Link) -> None:
    if link not in links:
        links.append(link)


class InlineRenderer:
    """Renders inline content to raw Markdown text (whitespace not yet collapsed)."""

    def __init__(self, links: LinkCollector):
        self.links = links
        self._handlers: dict[str, Callable[[Element], str]] = {
            "LienInterne": self._internal_link,
            "LienExterne": self._external_link,
            "LienIntra": self._intra_link,
            "MiseEnEvidence": self._emphasis,
            "Citation": lambda e: f"« {collapse(self.raw(e))} »",
            "Variable": lambda e: f"[{collapse(self.raw(e))}]",
            "Image": self.image,
        }

    def text(self, element: Element | None) -> str:
        """The collapsed inline text of an element (empty for None)."""
        return collapse(self.raw(element)) if element is not None else ""

    def raw(self, element: Element) -> str:
        out = ""
        for child in element.children:
            if isinstance(child, str):
                out += child
            elif child.name in ("Exposant", "Indice"):
                # "1" + "er" → "1er": attach to the previous word, whatever the spacing.
                out = out.rstrip() + collapse(self.raw(child))
            else:
                out += self.inline(child)
        return out

    def inline(self, element: Element) -> str:
        handler = self._handlers.get(element.name)
        if handler is not None:
            return handler(element)
        if element.name in _SILENT:
            return ""
        if element.name in _BLOCKS:
            return f" {self.raw(element)} "
        if element.name not in _PLAIN:
            log.debug("unknown inline element <%s>: text kept", element.name)
        return self.raw(element)

    def _internal_link(self, element: Element) -> str:
        target = element.get("LienPublication", "")
        label = collapse(self.raw(element)) or self.links.title_of(target)
        if target:
            self.links.add_internal(label, target)
        return _keep_edges(self.raw(element), label)

    def _external_link(self, element: Element) -> str:
        raw = self.raw(element)
        label = collapse(raw)
        url = element.get("URL", "")
        if url:
            self.links.add_external(label or url, url)
        return _keep_edges(raw, label or url)

    def _intra_link(self, element: Element) -> str:
        target = element.get("LienID", "")
        if target:
            self.links.glossary_refs.append(target)
        return self.raw(element)

    def _emphasis(self, element: Element) -> str:
        raw = self.raw(element)
        inner = collapse(raw.replace("**", ""))  # nested emphasis: already bold
        return _keep_edges(raw, f"**{inner}**") if inner else raw

    def image(self, element: Element) -> str:
        """Image or Illustration: alternative text and caption only."""
        parts = [self.text(element.first(name)) for name in ("TexteDeRemplacement", "Legende")]
        parts = [p for p in parts if p]
        return f" [Image : {' — '.join(parts)}] " if parts else ""


def _keep_edges(raw: str, rendered: str) -> str:
    """Keep the whitespace that surrounded an inline element in the source."""
    lead = " " if raw[:1].isspace() else ""
    trail = " " if raw[-1:].isspace() else ""
    return f"{lead}{rendered}{trail}"
