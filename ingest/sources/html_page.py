"""A service-public.fr fiche page (HTML, DSFR layout) read into the Fiche model.

What is read: the h1 title, the breadcrumb (`nav.fr-breadcrumb`), the type tag, the
"Vérifié le …" / "Mise à jour le …" date, the introduction (description), the body
as sections along h2/h3/h4 headings (tabs of alternatives become "Cas : …"
sub-sections), lists and tables rendered to Markdown, links to other fiches, and the
"Références" block (legal texts, Légifrance identifiers normalised), the "Services en
ligne et formulaires" cards (online services, Cerfa numbers) and "Questions ? Réponses !".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlparse

from bs4 import BeautifulSoup, NavigableString, Tag

from ingest.french import MONTHS
from ingest.legifrance import legifrance_id
from ingest.model import Fiche, LegalReference, Link, OnlineService, Section
from ingest.sources.documents import DOCUMENT_ID, audience_from_name

DATE_LINE = re.compile(
    r"(?:Vérifié le|Mise à jour le|Mis à jour le)\s+(\d{1,2})(?:er)?\s+([a-zéû]+)\s+(\d{4})", re.IGNORECASE
)
FICHE_LINK = re.compile(r"/vosdroits/([A-Z]{1,3}\d+)(?:[/?#]|$)")
REFERENCES_HEADING = re.compile(r"^(textes? de (loi|référence)|références)", re.IGNORECASE)
QUESTIONS_HEADING = re.compile(r"^questions\s*\?", re.IGNORECASE)
SERVICES_HEADING = re.compile(r"^services en ligne", re.IGNORECASE)
CERFA = re.compile(r"cerfa\s*n°?\s*([\d*]+)", re.IGNORECASE)
TAG_TYPES = {
    "fiche pratique": "Fiche d'information",
    "question-réponse": "Fiche Question-réponse",
    "comment faire si": "Fiche Comment faire si",
}
SKIPPED = {"script", "style", "noscript", "nav", "header", "footer", "form", "button", "svg", "aside", "template"}
HEADINGS = {"h2": 1, "h3": 2, "h4": 3}


def fiche_id_from_url(url: str) -> str:
    segment = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]
    return segment if DOCUMENT_ID.match(segment) else ""


def parse_french_date(text: str) -> str:
    """'Vérifié le 1er janvier 2024 - …' → '2024-01-01'; '' when there is none."""
    match = DATE_LINE.search(text)
    if not match or match.group(2).lower() not in MONTHS:
        return ""
    day, month, year = int(match.group(1)), MONTHS[match.group(2).lower()], int(match.group(3))
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_fiche_page(html: str | bytes, url: str) -> Fiche | None:
    """The fiche on the page at `url`; None when the page is not a fiche (no ID in the
    URL or no h1), e.g. a home or search page that is only crawled through."""
    fiche_id = fiche_id_from_url(url)
    soup = BeautifulSoup(html, "lxml")
    h1 = soup.find("h1")
    if not fiche_id or h1 is None:
        return None
    content = h1.find_parent("article") or soup.find("main") or soup.body or soup
    reader = _BodyReader(base_url=url, title=_text(h1))
    reader.walk(content)
    fiche = Fiche(
        id=fiche_id,
        type=_fiche_type(soup, fiche_id),
        title=_text(h1),
        description=_description(soup),
        audiences=[a for a in [audience_from_name(urlparse(url).path.strip("/").split("/")[0])] if a],
        breadcrumb=_breadcrumb(soup),
        date=parse_french_date(content.get_text(" ")),
        url=url,
        sections=reader.sections,
        legal_references=reader.references,
        internal_links=_dedup(reader.links),
        related_questions=_dedup(reader.questions),
        external_links=_dedup(reader.external),
        online_services=reader.services,
        origin=url,
    )
    fiche.markdown = render_markdown(fiche.sections)
    return fiche


def render_markdown(sections: list[Section]) -> str:
    """Sections carry their own headings (as the XML parser writes them)."""
    return "\n\n".join(section.markdown for section in sections if section.markdown)


def _new_headings(previous: list[str], path: list[str]) -> list[str]:
    """Headings for the levels of `path` that the previous section did not open."""
    headings = []
    for level, label in enumerate(path):
        if previous[: level + 1] != path[: level + 1]:
            headings.append("#" * (level + 2) + " " + label)
    return headings


def _text(node: Tag) -> str:
    return " ".join(node.get_text(" ").split())


def _fiche_type(soup: BeautifulSoup, fiche_id: str) -> str:
    tag = soup.select_one(".fr-tag, .sp-tag")
    label = _text(tag).lower() if tag else ""
    for prefix, type_ in TAG_TYPES.items():
        if label.startswith(prefix):
            return type_
    return "Fiche d'information" if fiche_id.startswith("F") else label.capitalize()


def _description(soup: BeautifulSoup) -> str:
    meta = soup.find("meta", attrs={"name": "description"})
    if meta and meta.get("content"):
        return " ".join(meta["content"].split())
    intro = soup.select_one("#intro")
    return _text(intro) if intro else ""


def _breadcrumb(soup: BeautifulSoup) -> list[str]:
    """All levels, the page itself last (as FilDAriane in the XML)."""
    nav = soup.select_one("nav.fr-breadcrumb, nav[aria-label*='Ariane'], nav[aria-label*='ici']")
    if nav is None:
        return []
    return [item for item in (_text(li) for li in nav.find_all("li")) if item]


def _dedup(links: list[Link]) -> list[Link]:
    seen, unique = set(), []
    for link in links:
        if link.target not in seen:
            seen.add(link.target)
            unique.append(link)
    return unique


@dataclass
class _BodyReader:
    """Walks the article in document order, cutting sections at headings."""

    base_url: str
    title: str
    sections: list[Section] = field(default_factory=list)
    references: list[LegalReference] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    questions: list[Link] = field(default_factory=list)
    external: list[Link] = field(default_factory=list)
    services: list[OnlineService] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    mode: str = "body"  # body | references | questions | services

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag) and child.name not in SKIPPED and not _is_page_header(child):
                self._visit(child)

    def _visit(self, node: Tag) -> None:
        if node.name in HEADINGS:
            self._heading(node)
        elif node.name == "h1":
            return
        elif "fr-tabs" in (node.get("class") or []):
            self._tabs(node)
        elif "fr-callout" in (node.get("class") or []):
            self._callout(node)
        elif node.name in ("p", "ul", "ol", "table", "blockquote", "dl"):
            self._block(node)
        else:
            self.walk(node)

    def _heading(self, node: Tag) -> None:
        label = _text(node)
        level = HEADINGS[node.name]
        if level == 1:
            self.mode = _section_mode(label)
        if self.mode == "body":
            self.path = self.path[: level - 1] + [label]

    def _tabs(self, node: Tag) -> None:
        labels = {tab.get("aria-controls"): _text(tab) for tab in node.select(".fr-tabs__tab")}
        saved = self.path
        for panel in node.select(".fr-tabs__panel"):
            label = labels.get(panel.get("id")) or panel.get("aria-label") or "Autre cas"
            self.path = saved + [f"Cas : {label}"]
            self.walk(panel)
        self.path = saved

    def _callout(self, node: Tag) -> None:
        """"À noter", "Attention"…: one quoted block, as the XML renderer writes them."""
        title = node.select_one(".fr-callout__title")
        label = _text(title) if title else ""
        if title is not None:
            title.extract()
        self._collect_links(node)
        body = " ".join(_block_markdown(child) for child in node.find_all(["p", "ul", "ol"], recursive=False))
        if self.mode == "body" and body:
            self._append(f"> **{label}** : {body}" if label else f"> {body}")

    def _block(self, node: Tag) -> None:
        self._collect_links(node)
        if self.mode != "body":
            return
        markdown = _block_markdown(node)
        if not markdown or (not self.path and DATE_LINE.match(markdown)):
            return
        self._append(markdown)

    def _append(self, markdown: str) -> None:
        if self.sections and self.sections[-1].path == self.path:
            self.sections[-1].markdown += "\n\n" + markdown
            return
        previous = self.sections[-1].path if self.sections else []
        headings = _new_headings(previous, self.path)
        self.sections.append(Section(path=list(self.path), markdown="\n\n".join([*headings, markdown])))

    def _collect_services(self, node: Tag) -> None:
        """"Services en ligne et formulaires": one card (li) per service."""
        items = node.find_all("li") if node.name in ("ul", "ol") else [node]
        for item in items:
            anchor = item.find("a", href=True)
            if anchor is not None:
                self.services.append(_service(item, anchor, self.base_url))

    def _collect_links(self, node: Tag) -> None:
        if self.mode == "services":
            self._collect_services(node)
            return
        for anchor in node.find_all("a", href=True):
            href = urljoin(self.base_url, anchor["href"])
            label = _text(anchor)
            if self.mode == "references":
                self.references.append(LegalReference(label=label, url=href, legifrance_id=legifrance_id(href)))
                continue
            match = FICHE_LINK.search(urlparse(href).path + "/")
            if match:
                (self.questions if self.mode == "questions" else self.links).append(Link(label, match.group(1)))
            elif urlparse(href).netloc != urlparse(self.base_url).netloc and href.startswith("http"):
                self.external.append(Link(label, href))


def _service(item: Tag, anchor: Tag, base_url: str) -> OnlineService:
    href = urljoin(base_url, anchor["href"])
    match = FICHE_LINK.search(urlparse(href).path + "/")
    tag = item.select_one(".fr-tag, .sp-tag")
    cerfa = CERFA.search(_text(item))
    return OnlineService(
        id=match.group(1) if match else "",
        title=_text(anchor),
        url=href,
        kind=_text(tag) if tag else "",
        cerfa=cerfa.group(1) if cerfa else None,
    )


def _section_mode(h2_label: str) -> str:
    """What a top-level section holds: body text, legal references or related questions."""
    if REFERENCES_HEADING.match(h2_label):
        return "references"
    if QUESTIONS_HEADING.match(h2_label):
        return "questions"
    if SERVICES_HEADING.match(h2_label):
        return "services"
    return "body"


def _is_page_header(node: Tag) -> bool:
    """The type tag above the title, and the breadcrumb."""
    classes = set(node.get("class") or [])
    return bool(classes & {"fr-tag", "sp-tag", "fr-breadcrumb", "sp-date"})


def _block_markdown(node: Tag) -> str:
    if node.name in ("ul", "ol"):
        return _list_markdown(node, depth=0)
    if node.name == "table":
        return _table_markdown(node)
    if node.name == "blockquote":
        return "> " + _inline(node)
    if node.name == "dl":
        return "\n".join(f"- {_inline(t)}" for t in node.find_all(["dt", "dd"]))
    return _inline(node)


def _inline(node: Tag) -> str:
    parts = []
    for child in node.children:
        if isinstance(child, NavigableString):
            parts.append(str(child))
        elif isinstance(child, Tag) and child.name in ("ul", "ol"):
            continue  # nested lists are rendered by _list_markdown
        elif isinstance(child, Tag) and child.name in ("strong", "b"):
            inner = _inline(child).strip()
            parts.append(f" **{inner}** " if inner else "")
        elif isinstance(child, Tag) and child.name in ("sup", "sub"):
            parts.append(_inline(child).strip())
        elif isinstance(child, Tag) and child.name == "br":
            parts.append(" ")
        elif isinstance(child, Tag) and child.name not in SKIPPED:
            parts.append(_inline(child))
    text = " ".join("".join(parts).split())
    return re.sub(r"\s+([,.)])", r"\1", text)  # French keeps the space before : ; ? !


def _list_markdown(node: Tag, depth: int) -> str:
    lines = []
    for number, item in enumerate(node.find_all("li", recursive=False), start=1):
        marker = f"{number}." if node.name == "ol" else "-"
        lines.append(f"{'  ' * depth}{marker} {_inline(item)}")
        for nested in item.find_all(["ul", "ol"], recursive=False):
            lines.append(_list_markdown(nested, depth + 1))
    return "\n".join(lines)


def _table_markdown(node: Tag) -> str:
    rows = []
    for tr in node.find_all("tr"):
        row = []
        for cell in tr.find_all(["th", "td"], recursive=False):
            span = int(cell.get("colspan", 1) or 1)
            row.extend([_inline(cell).replace("|", "\\|")] * span)
        if row:
            rows.append(row)
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    caption = node.find("caption")
    return (f"**{_inline(caption)}**\n\n" if caption else "") + "\n".join(lines)
