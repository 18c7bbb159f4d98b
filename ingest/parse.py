"""One parsed document (`ingest.tree.Element`, from XML or xml-js JSON) → `Fiche`.

    fiche = parse_document(from_xml(data), audience="particuliers", origin="F1234.xml")

`titles` (fiche ID → title, e.g. from a first pass over the corpus) labels links
whose anchor text is empty; titles named inside the document itself are used too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from ingest import metadata
from ingest.inline import InlineRenderer, LinkCollector, collapse
from ingest.model import Fiche, Link, OnlineService, Section
from ingest.render import FlowRenderer, RenderResult, online_service, quote_blocks, render_body
from ingest.tree import Element

log = logging.getLogger(__name__)

ROOTS = ("Publication", "ServiceComplementaire")
BODY_PARTS = ("Introduction", "Texte", "ListeSituations", "Problematiques")
_ID = re.compile(r"^[A-Z]+[0-9]+$|^[A-Za-z][\w-]*$")


class ParseError(ValueError):
    """The document is not a fiche this parser can read; the message names why."""


def parse_document(
    root: Element,
    *,
    audience: str | None = None,
    origin: str = "",
    titles: Mapping[str, str] | None = None,
) -> Fiche:
    where = f" ({origin})" if origin else ""
    if not isinstance(root, Element):
        raise ParseError(f"expected an ingest.tree.Element, got {type(root).__name__}{where}")
    if root.name not in ROOTS:
        raise ParseError(f"unknown root element <{root.name}>{where}: expected one of {', '.join(ROOTS)}")
    fiche_id = collapse(root.get("ID", "")) or metadata.dc(root, "identifier")
    if not fiche_id:
        raise ParseError(f"<{root.name}> has no ID attribute nor dc:identifier{where}")
    if not _ID.match(fiche_id):
        raise ParseError(f"invalid fiche ID {fiche_id!r}{where}")
    title = metadata.clean_title(metadata.dc(root, "title"))
    if not title:
        raise ParseError(f"{fiche_id} has no dc:title{where}")

    known_titles = {**metadata.local_titles(root), **(titles or {})}
    links = LinkCollector(titles=known_titles)
    body = render_body(_body_parts(root), links)
    inline = InlineRenderer(links)
    _add_annex_sections(root, body, inline)
    description = metadata.dc(root, "description")
    if not body.sections and not description:
        raise ParseError(f"{fiche_id} is empty: no body and no dc:description{where}")

    return Fiche(
        id=fiche_id,
        type=collapse(root.get("type", "")) or metadata.dc(root, "type"),
        title=title,
        description=description,
        audiences=metadata.audiences(root, audience),
        breadcrumb=metadata.breadcrumb(root),
        themes=metadata.themes(root),
        subject=metadata.dc(root, "subject"),
        date=metadata.iso_date(metadata.dc(root, "date")),
        url=root.get("spUrl", ""),
        markdown=body.markdown,
        sections=body.sections,
        legal_references=metadata.legal_references(root, inline),
        internal_links=list(links.internal),
        online_services=_online_services(root, body, inline),
        related_questions=metadata.related_questions(root, inline),
        glossary=metadata.definitions(root, "Definition", inline),
        acronyms=metadata.definitions(root, "Abreviation", inline),
        warnings=metadata.warnings(root, inline),
        origin=origin,
        kind=_kind(root, fiche_id),
        external_links=list(links.external),
        where_to_go=_where_to_go(root, body),
    )


def document_title(root: Element) -> tuple[str, str]:
    """(ID, title) of a document without parsing its body: a cheap first pass over a
    corpus gives the `titles` that label empty links."""
    fiche_id = collapse(root.get("ID", "")) or metadata.dc(root, "identifier")
    return fiche_id, metadata.dc(root, "title")


def _body_parts(root: Element) -> list[Element]:
    return [child for child in root.elements() if child.name in BODY_PARTS]


def _add_annex_sections(root: Element, body: RenderResult, inline: InlineRenderer) -> None:
    """Blocks that are body text although outside Texte: dated warnings first,
    then commented external links (fiches "avec liens externes") and navigation."""
    flow = FlowRenderer(body)
    warnings = [_warning_block(w, flow) for w in root.elements("Avertissement")]
    if warnings:
        _prepend_blocks(body, warnings)
    external = [_external_link_line(e, inline) for e in root.elements("LienExterneCommente")]
    external = [line for line in external if line]
    if external:
        body.sections.append(Section(path=["Liens utiles"], markdown="## Liens utiles\n\n" + "\n".join(external)))
    if root.name == "Publication":
        body.sections.extend(_navigation_sections(root, inline, body.links))
    if root.name == "ServiceComplementaire":
        _service_card_links(root, body, inline)


def _prepend_blocks(body: RenderResult, blocks: list[str]) -> None:
    text = "\n\n".join(blocks)
    if body.sections and not body.sections[0].path:
        first = body.sections[0]
        first.markdown = f"{text}\n\n{first.markdown}"
    else:
        body.sections.insert(0, Section(path=[], markdown=text))


def _warning_block(element: Element, flow: FlowRenderer) -> str:
    date = metadata.iso_date(element.get("date", ""))
    label = f"Avertissement du {date}" if date else "Avertissement"
    texte = element.first("Texte")
    blocks = [flow.title(element)] + (flow.blocks(texte) if texte is not None else [])
    return quote_blocks(label, [b for b in blocks if b])


def _external_link_line(element: Element, inline: InlineRenderer) -> str:
    link = element.first("LienExterne")
    if link is None:
        return ""
    label = inline.text(link)
    inline.links.add_external(label, link.get("URL", ""))
    extras = [inline.text(element.first(name)) for name in ("Commentaire", "Source")]
    extras = [e for e in extras if e]
    return f"- {label}" + (f" ({' ; '.join(extras)})" if extras else "")


def _navigation_sections(root: Element, inline: InlineRenderer, links: LinkCollector) -> list[Section]:
    """Dossiers and themes: their lists of fiches (N* documents are navigation)."""
    sections: list[Section] = []
    direct = _nav_lines(root, links)
    if direct:
        sections.append(Section(path=[], markdown="\n".join(direct)))
    for group in root.elements():
        if group.name in ("SousDossier", "SousTheme"):
            title = inline.text(group.first("Titre"))
            lines = _nav_lines(group, links)
            if title and lines:
                sections.append(Section(path=[title], markdown=f"## {title}\n\n" + "\n".join(lines)))
    return sections


def _nav_lines(parent: Element, links: LinkCollector) -> list[str]:
    lines = []
    for item in parent.elements():
        if item.name not in ("Fiche", "Dossier") or parent.name == "VoirAussi":
            continue
        target = item.get("ID", "")
        titre = item.first("Titre")
        label = collapse(titre.text() if titre is not None else item.text()) or links.title_of(target)
        if target:
            links.add_internal(label, target)
            lines.append(f"- {label} ({target})")
    return lines


def _service_card_links(root: Element, body: RenderResult, inline: InlineRenderer) -> None:
    """R* cards: the service's own URL and the fiches that point to it."""
    for web in root.elements("LienWeb"):
        url = web.get("URL", "")
        if url:
            body.links.add_external(metadata.dc(root, "title"), url)
    for linked in root.elements("FicheLiee"):
        target = linked.get("ID", "")
        if target:
            body.links.add_internal(inline.text(linked.first("Titre")) or body.links.title_of(target), target)


def _online_services(root: Element, body: RenderResult, inline: InlineRenderer) -> list[OnlineService]:
    services = list(body.online_services)
    for element in root.elements("ServiceEnLigne"):
        service = online_service(element, inline)
        if all(s.id != service.id for s in services):
            services.append(service)
    return services


def _where_to_go(root: Element, body: RenderResult) -> list[Link]:
    """Inline "Où s'adresser" (rendered in the body) and the fiche's own list."""
    places = list(body.where_to_go)
    for element in root.elements("OuSAdresser"):
        web = element.first("RessourceWeb")
        target = (web.get("URL", "") if web is not None else "") or element.get("ID", "")
        link = Link(collapse(element.first("Titre").text()) if element.first("Titre") else target, target)
        if link.target and link not in places:
            places.append(link)
    return places


def _kind(root: Element, fiche_id: str) -> str:
    if root.name == "ServiceComplementaire":
        return "service"
    if fiche_id.startswith("N"):
        return "theme" if root.get("type", "").lower().startswith("th") else "dossier"
    return "fiche"
