"""The body of a fiche → Markdown sections.

Structure: `Situation` (H1, one per profile), `Chapitre` (H2), `SousChapitre` (H3),
`Cas` ("Cas : …", one level below its parent). Each heading opens a `Section` whose
path is the chain of headings above it; flow content (paragraphs, lists, tables,
callouts, inline "Où s'adresser" and online services) goes into the current section.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ingest.inline import InlineRenderer, LinkCollector, collapse
from ingest.model import Link, OnlineService, Section
from ingest.tables import render_table
from ingest.tree import Element

log = logging.getLogger(__name__)

CALLOUT_LABELS = {"ANoter": "À noter", "ASavoir": "À savoir", "Attention": "Attention", "Rappel": "Rappel"}
# Personalisation logic and UI of the "conditionnée" fiches: content kept, logic dropped.
DROPPED = {"Condition", "Questionnaire", "SiSelectionne", "IntituleSiSelectionne", "Aide",
           "TitreAlternatif", "Credits", "Resume", "Colonne"}
# Containers whose children belong to the current section, transparently.
TRANSPARENT = {"Texte", "Introduction", "FragmentConditionne", "Contenu"}
SECTION_LEVELS = {"Situation": 1, "Chapitre": 2, "SousChapitre": 3}
MAX_LEVEL = 6


@dataclass
class RenderResult:
    sections: list[Section] = field(default_factory=list)
    links: LinkCollector = field(default_factory=LinkCollector)
    online_services: list[OnlineService] = field(default_factory=list)
    where_to_go: list[Link] = field(default_factory=list)

    @property
    def markdown(self) -> str:
        return "\n\n".join(s.markdown for s in self.sections if s.markdown)


class FlowRenderer:
    """Block content without sections: paragraphs, lists, tables, callouts…"""

    def __init__(self, result: RenderResult):
        self.result = result
        self.inline = InlineRenderer(result.links)

    def blocks(self, element: Element) -> list[str]:
        """The Markdown blocks of an element's children."""
        out: list[str] = []
        for child in element.children:
            if isinstance(child, str):
                if child.strip():
                    out.append(collapse(child))
                continue
            out.extend(self.block(child))
        return [b for b in out if b]

    def block(self, element: Element) -> list[str]:
        name = element.name
        if name in DROPPED or name == "Titre":
            return []
        if name == "Paragraphe":
            return [self.inline.text(element)]
        if name == "Liste":
            return ["\n".join(self.list_lines(element))]
        if name == "Tableau":
            return [render_table(element, self.inline)]
        if name in CALLOUT_LABELS:
            return [self.callout(element)]
        if name == "OuSAdresser":
            return [self.where_to_go(element)]
        if name == "ServiceEnLigne":
            return [self.online_service(element)]
        if name in ("Image", "ContenuIllustre", "Illustration"):
            return self.illustration(element)
        if name in TRANSPARENT or name in SECTION_LEVELS or name in ("BlocCas", "Cas", "ListeSituations"):
            return self.nested_flow(element)
        log.debug("unknown block element <%s>: text kept", name)
        text = self.inline.text(element)
        return [text] if text else []

    def nested_flow(self, element: Element) -> list[str]:
        """Structure met inside flow content (contact blocks): titles in bold."""
        title = self.title(element)
        if element.name == "Cas" and title:
            title = f"Cas : {title}"
        head = [f"**{title}**"] if title else []
        return head + self.blocks(element)

    def title(self, element: Element) -> str:
        return self.inline.text(element.first("Titre"))

    def list_lines(self, liste: Element, indent: int = 0) -> list[str]:
        numbered = liste.get("type") == "numero"
        lines: list[str] = []
        for number, item in enumerate(liste.elements("Item"), start=1):
            marker = f"{number}. " if numbered else "- "
            body = self.item_lines(item, indent + len(marker))
            if not body:
                continue
            lines.append(" " * indent + marker + body[0].lstrip())
            lines.extend(body[1:])
        return lines

    def item_lines(self, item: Element, indent: int) -> list[str]:
        lines: list[str] = []
        for child in item.elements():
            if child.name == "Liste":
                lines.extend(self.list_lines(child, indent))
            else:
                for block in self.block(child):
                    lines.extend(" " * indent + line for line in block.split("\n") if line.strip())
        return lines

    def callout(self, element: Element) -> str:
        label = self.title(element) or CALLOUT_LABELS[element.name]
        return quote_blocks(label, self.blocks(element))

    def where_to_go(self, element: Element) -> str:
        title = self.title(element)
        complement = self.inline.text(element.first("Complement"))
        label = f"{title} ({complement})" if complement else title
        target = element.get("ID", "")
        url = ""
        web = element.first("RessourceWeb")
        if web is not None:
            url = web.get("URL", "")
        link = Link(label, url or target)
        if link not in self.result.where_to_go:
            self.result.where_to_go.append(link)
        text = element.first("Texte")
        details = self.blocks(text) if text is not None else []
        return "\n\n".join([f"Où s'adresser : {label}"] + details)

    def online_service(self, element: Element) -> str:
        service = online_service(element, self.inline)
        if all(s.id != service.id for s in self.result.online_services):
            self.result.online_services.append(service)
        kind = service.kind or "Service en ligne"
        cerfa = f" (cerfa n° {service.cerfa})" if service.cerfa else ""
        intro = self.inline.text(element.first("Introduction"))
        return f"{kind} : {service.title}{cerfa}" + (f" — {intro}" if intro else "")

    def illustration(self, element: Element) -> list[str]:
        """Images keep their text: alternative text and caption, and the long
        description some carry (the picture's content written out, tables included)."""
        if element.name == "ContenuIllustre":
            content = element.first("Contenu")
            pictures = [p for p in element.elements("Illustration")]
            return (self.blocks(content) if content is not None else []) + [
                block for picture in pictures for block in self.illustration(picture)
            ]
        caption = collapse(self.inline.image(element))
        description = element.first("Description")
        return ([caption] if caption else []) + (self.blocks(description) if description is not None else [])


def quote_blocks(label: str, blocks: list[str]) -> str:
    """A callout: `> **label** : first paragraph`, further blocks quoted below."""
    body = list(blocks)
    if body and "\n" not in body[0] and not body[0].startswith(("|", "- ", "**", "1. ")):
        first = f"**{label}** : {body.pop(0)}"
    else:
        first = f"**{label}**"
    lines = [first]
    for block in body:
        lines.append("")
        lines.extend(block.split("\n"))
    return "\n".join(f"> {line}".rstrip() for line in lines)


def online_service(element: Element, inline: InlineRenderer) -> OnlineService:
    return OnlineService(
        id=element.get("ID", ""),
        title=inline.text(element.first("Titre")),
        url=element.get("URL", ""),
        kind=element.get("type", ""),
        cerfa=element.get("numerocerfa") or None,
    )


class SectionRenderer(FlowRenderer):
    """Walks the structure, opening a section at each heading."""

    def __init__(self, result: RenderResult):
        super().__init__(result)
        self._path: list[str] = []
        self._current: Section | None = None

    def add_blocks(self, blocks: list[str]) -> None:
        blocks = [b for b in blocks if b]
        if not blocks:
            return
        if self._current is None:
            self._open(list(self._path), "")
        current = self._current
        current.markdown = "\n\n".join(([current.markdown] if current.markdown else []) + blocks)

    def section_content(self, element: Element, level: int) -> None:
        for child in element.children:
            if isinstance(child, str):
                if child.strip():
                    self.add_blocks([collapse(child)])
            elif child.name in SECTION_LEVELS:
                self.heading_section(child, SECTION_LEVELS[child.name])
            elif child.name == "ListeSituations":
                self.section_content(child, level)
            elif child.name == "BlocCas":
                for case in child.elements("Cas"):
                    self.heading_section(case, min(level + 1, MAX_LEVEL), prefix="Cas : ")
            elif child.name in TRANSPARENT:
                self.section_content(child, level)
            else:
                self.add_blocks(self.block(child))

    def heading_section(self, element: Element, level: int, prefix: str = "") -> None:
        title = prefix + (self.title(element) or "")
        parent_path = self._path
        self._path = parent_path + [title]
        self._open(list(self._path), f"{'#' * level} {title}")
        self.section_content(element, level)
        self._path = parent_path
        self._current = None  # content after this section reopens one at the parent path

    def guided_search(self, problematiques: Element) -> None:
        """Recherche guidée: one heading per problem, one "options → target" line per
        branch that leads to a fiche."""
        for problem in problematiques.elements("Problematique"):
            title = self.title(problem) or "Recherche guidée"
            self._path = [title]
            self._open([title], f"## {title}")
            lines = self._branch_lines(problem, [])
            self.add_blocks(["\n".join(lines)] if lines else [])
            self._path = []
            self._current = None

    def _branch_lines(self, branch: Element, options: list[str]) -> list[str]:
        lines = []
        for link in branch.elements("LienInterne"):
            target = link.get("LienPublication", "")
            label = self.inline.text(link) or self.result.links.title_of(target)
            self.result.links.add_internal(label, target)
            path = " > ".join(options) or self.title(branch)
            lines.append(f"- {path} → {label} ({target})")
        for child in branch.elements("Branche"):
            lines.extend(self._branch_lines(child, options + [self.title(child)]))
        return lines

    def _open(self, path: list[str], heading: str) -> None:
        self._current = Section(path=path, markdown=heading)
        self.result.sections.append(self._current)


def render_body(parts: list[Element], links: LinkCollector | None = None) -> RenderResult:
    """Render the body elements of a document (Introduction, Texte, ListeSituations…)
    in the order given, as one sequence of sections."""
    result = RenderResult(links=links or LinkCollector())
    renderer = SectionRenderer(result)
    for part in parts:
        if part.name in TRANSPARENT or part.name == "ListeSituations":
            renderer.section_content(part, 1)
        elif part.name == "Problematiques":
            renderer.guided_search(part)
        else:
            renderer.add_blocks(renderer.block(part))
    result.sections = [s for s in result.sections if s.markdown.strip()]
    return result
