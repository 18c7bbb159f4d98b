"""Labour-law sources from SocialGouv's npm packages, read into the Fiche model:

- `travail-emploi`: @socialgouv/fiches-travail-data, the Ministry of Labour's fiches
  (travail-emploi.gouv.fr), `data/fiches-travail.json`: title, description, intro,
  date (DD/MM/YYYY), URL, and sections (`html`, `text`, per-section `references` to
  Code du travail / sécurité sociale articles by LEGIARTI identifier);
- `cdtn`: @socialgouv/contributions-data, the Code du travail numérique's answers to
  common questions, `data/contributions.json`; the generic answer (Markdown) only, not
  the per-collective-agreement ones.

Each entry is parsed on its own: a malformed one becomes a Failure naming it (its
position and ID or title) and the run goes on with the others.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

from ingest.legifrance import legifrance_url
from ingest.model import Failure, Fiche, LegalReference, Section
from ingest.npm import NpmPackage
from ingest.settings import IngestSettings
from ingest.sources.base import Source
from ingest.sources.html_page import _block_markdown, _inline

TRAVAIL_TYPE = "Fiche du ministère du Travail"
CDTN_TYPE = "Réponse du Code du travail numérique"
LABOUR_AUDIENCES = ["particuliers", "professionnels"]  # employees and employers
CDTN_BASE_URL = "https://code.travail.gouv.fr/contribution/"
VIDEO_SECTION = re.compile(r"\ben vidéo\b", re.IGNORECASE)
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_BLOCKS = ("p", "ul", "ol", "table", "blockquote", "dl")
_CONTAINERS = ("div", "section", "article", "figure", "details", "main", "aside")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


class EntryError(ValueError):
    """An entry of a package's JSON that cannot be read as a fiche."""


class JsonPackageSource(Source):
    """One JSON array of a SocialGouv npm package (or a local copy of that file)."""

    package_setting = ""
    cache_name = ""
    data_file = ""

    def __init__(self, settings: IngestSettings, path: Path | str | None = None, npm: str = "npm"):
        self.settings = settings
        self.duplicates: dict[str, str] = {}  # ID left out -> the ID of the same fiche kept
        self.path = Path(path) if path else None
        self.npm_package = NpmPackage(settings, getattr(settings, self.package_setting), self.cache_name, npm=npm)

    def file(self) -> Path:
        if self.path is not None:
            return self.path
        return self.npm_package.ensure_package() / "data" / self.data_file

    def documents(self) -> Iterator[Fiche | Failure]:
        file = self.file()
        try:
            entries = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            yield Failure(str(file), f"cannot read {self.data_file}: {exc}")  # no fiche ID: nothing deleted
            return
        if not isinstance(entries, list):
            yield Failure(str(file), f"expected a JSON array of entries, got {type(entries).__name__}")
            return
        self.duplicates = {}
        seen: dict[tuple[str, str], str] = {}
        for position, entry in enumerate(entries):
            origin = f"{file}#{position} ({_entry_name(entry)})"
            try:
                fiche = self.parse(entry)
            except (EntryError, KeyError, TypeError, AttributeError, ValueError) as exc:
                yield Failure(origin, f"{self.name} entry {_entry_name(entry)}: {_message(exc)}", self.entry_id(entry))
                continue
            # The package publishes some fiches twice, under two IDs, word for word (fiches-
            # travail-data 4.1174.0: 9, the 26-chunk CDD fiche among them). Indexed twice,
            # one page takes two of the five places of a result list: the first is kept, the
            # other left out (and deleted from an index that holds it, like a removed entry).
            key = (fiche.title, fiche.markdown)
            if key in seen:
                self.duplicates[fiche.id] = seen[key]
                continue
            seen[key] = fiche.id
            fiche.origin = origin
            yield fiche

    def parse(self, entry: dict) -> Fiche:
        raise NotImplementedError

    def entry_id(self, entry) -> str:
        raise NotImplementedError


class TravailEmploiSource(JsonPackageSource):
    name = "travail-emploi"
    publisher = "travail-emploi"
    package_setting = "fiches_travail_package"
    cache_name = "fiches-travail-data"
    data_file = "fiches-travail.json"

    def entry_id(self, entry) -> str:
        pub_id = entry.get("pubId") if isinstance(entry, dict) else None
        return f"TE-{pub_id}" if isinstance(pub_id, str) and pub_id else ""

    def parse(self, entry: dict) -> Fiche:
        return parse_travail_fiche(entry)


class CdtnSource(JsonPackageSource):
    name = "cdtn"
    publisher = "cdtn"
    package_setting = "contributions_package"
    cache_name = "contributions-data"
    data_file = "contributions.json"

    def entry_id(self, entry) -> str:
        index = entry.get("index") if isinstance(entry, dict) else None
        return f"CDTN-{index}" if isinstance(index, (str, int)) and str(index).strip() else ""

    def parse(self, entry: dict) -> Fiche:
        return parse_contribution(entry)


# ---------------------------------------------------------------- travail-emploi


def parse_travail_fiche(entry: dict) -> Fiche:
    _require_object(entry)
    pub_id = _required_text(entry, "pubId")
    title = " ".join(_required_text(entry, "title").split())
    sections_data = entry.get("sections")
    if not isinstance(sections_data, list) or not sections_data:
        raise EntryError("no sections")
    sections: list[Section] = []
    intro = html_markdown(entry.get("intro") or "")
    if intro:
        sections.append(Section(path=[], markdown=intro))
    references: list[LegalReference] = []
    for number, data in enumerate(sections_data, start=1):
        if not isinstance(data, dict):
            raise EntryError(f"section {number} is not an object")
        section_refs = travail_references(data.get("references") or {})
        heading = " ".join(str(data.get("title") or "").split())
        if VIDEO_SECTION.search(heading):
            continue  # the transcript of a video, not the fiche's text
        body = html_markdown(data.get("html") or "") or " ".join(str(data.get("text") or "").split())
        if not body:
            continue
        path = [heading] if heading and heading != title else []
        markdown = f"## {heading}\n\n{body}" if path else body
        sections.append(Section(path=path, markdown=markdown, references=[r.legifrance_id or r.label for r in section_refs]))
        references.extend(r for r in section_refs if r not in references)
    if not sections:
        raise EntryError("every section is empty")
    return Fiche(
        id=f"TE-{pub_id}",
        type=TRAVAIL_TYPE,
        title=title,
        description=" ".join(str(entry.get("description") or "").split()),
        audiences=list(LABOUR_AUDIENCES),
        breadcrumb=["Ministère du Travail"],
        date=french_numeric_date(str(entry.get("date") or "")),
        url=str(entry.get("url") or ""),
        markdown="\n\n".join(s.markdown for s in sections),
        sections=sections,
        legal_references=references,
        kind="fiche",
        source="travail-emploi",
    )


def travail_references(raw) -> list[LegalReference]:
    """{code_id: {name, articles: [{text, fmt, cid, id}]}} → one reference per article;
    an article without identifier keeps its number in the label (resolved by number)."""
    if isinstance(raw, str):  # some exports keep it as a JSON string
        raw = json.loads(raw) if raw.strip() else {}
    if not isinstance(raw, dict):
        raise EntryError(f"references: expected an object, got {type(raw).__name__}")
    references: list[LegalReference] = []
    for code_id, code in raw.items():
        if not isinstance(code, dict) or not isinstance(code.get("articles", []), list):
            raise EntryError(f"references of {code_id}: expected {{name, articles: […]}}")
        name = (code.get("name") or "").strip()
        code_label = name[:1].upper() + name[1:] if name else ""
        for article in code["articles"]:
            number = str(article.get("fmt") or article.get("text") or "").strip()
            identifier = article.get("id") or article.get("cid") or None
            label = f"{code_label} : article {number}" if code_label else f"Article {number}"
            url = legifrance_url(identifier) if identifier else ""
            reference = LegalReference(label=label, url=url, legifrance_id=identifier)
            if reference not in references:
                references.append(reference)
    return references


def french_numeric_date(text: str) -> str:
    """'13/11/2025' → '2025-11-13' ('' when empty); another format is an error."""
    text = text.strip()
    if not text:
        return ""
    match = _DATE.match(text)
    if not match:
        raise EntryError(f"date {text!r}: expected DD/MM/YYYY")
    day, month, year = (int(p) for p in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise EntryError(f"date {text!r}: no such day")
    return f"{year:04d}-{month:02d}-{day:02d}"


def html_markdown(html: str) -> str:
    """A section's HTML as Markdown blocks (paragraphs, lists, tables); inner headings
    become bold lines so that they do not open sections of their own."""
    if not html or not html.strip():
        return ""
    soup = BeautifulSoup(html, "html.parser")
    blocks: list[str] = []
    _collect_blocks(soup, blocks)
    return "\n\n".join(b for b in blocks if b.strip())


def _collect_blocks(node: Tag, blocks: list[str]) -> None:
    loose: list[str] = []

    def flush() -> None:
        text = " ".join("".join(loose).split())
        if text:
            blocks.append(text)
        loose.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            loose.append(str(child))
        elif not isinstance(child, Tag) or child.name in ("script", "style", "button", "img", "iframe", "svg"):
            continue
        elif child.name in _HEADINGS:
            flush()
            text = _inline(child).strip()
            if text:
                blocks.append(f"**{text.strip('* ')}**")
        elif child.name in _BLOCKS:
            flush()
            blocks.append(_block_markdown(child))
        elif child.name in _CONTAINERS:
            flush()
            _collect_blocks(child, blocks)
        elif child.name == "br":
            loose.append(" ")
        else:
            loose.append(" " + _inline(child) + " ")
    flush()


# ---------------------------------------------------------------- Code du travail numérique


def parse_contribution(entry: dict) -> Fiche:
    _require_object(entry)
    index = entry.get("index")
    if not isinstance(index, (str, int)) or not str(index).strip():
        raise EntryError("no 'index'")
    title = " ".join(_required_text(entry, "title").split())
    answers = entry.get("answers")
    generic = answers.get("generic") if isinstance(answers, dict) else None
    if not isinstance(generic, dict):
        raise EntryError("no generic answer (answers.generic)")
    markdown = str(generic.get("markdown") or "").strip() or str(generic.get("text") or "").strip()
    if not markdown:
        raise EntryError("the generic answer is empty")
    sections = markdown_sections(mdx_markdown(markdown))
    if not sections:
        raise EntryError("the generic answer is empty once its markup is removed")
    references = [
        LegalReference(label=str(r.get("title") or r.get("url") or ""), url=str(r.get("url") or ""))
        for r in generic.get("references") or [] if isinstance(r, dict)
    ]
    return Fiche(
        id=f"CDTN-{str(index).strip()}",
        type=CDTN_TYPE,
        title=title,
        description=" ".join(str(generic.get("description") or "").split()),
        audiences=list(LABOUR_AUDIENCES),
        breadcrumb=["Code du travail numérique"],
        url=CDTN_BASE_URL + slugify(title),
        markdown="\n\n".join(s.markdown for s in sections),
        sections=sections,
        legal_references=references,
        kind="fiche",
        source="cdtn",
    )


_MDX_TAB = re.compile(r'^\s*<Tab\s+title\s*=\s*"([^"]*)"\s*>\s*$')
_MDX_CONTENT = re.compile(r'<Content\s+href\s*=\s*"([^"]*)"\s*(?:/>|>\s*</Content>)')
_MDX_WRAPPERS = re.compile(r"^\s*</?(?:Tab|HDN)\s*>\s*$")


def mdx_markdown(markdown: str) -> str:
    """The answer's MDX components as plain Markdown: a `<Tab title="…">` opens a
    section of that title, `<Content href="…"/>` (a service-public.fr fiche the Code du
    travail numérique shows in place) becomes a link to it, and the wrappers (`</Tab>`,
    `<HDN>`, the note on more favourable agreements) go, their text kept."""
    lines = []
    for line in markdown.splitlines():
        tab = _MDX_TAB.match(line)
        if tab:
            lines.append(f"#### {' '.join(tab.group(1).split())}")
        elif not _MDX_WRAPPERS.match(line):
            lines.append(_MDX_CONTENT.sub(lambda m: f"Pour plus d'informations, voir la fiche : [{m.group(1)}]({m.group(1)})", line))
    return "\n".join(lines)


def markdown_sections(markdown: str) -> list[Section]:
    """Sections along the answer's Markdown headings ('#### 1. Conditions…')."""
    sections: list[Section] = []
    path: list[str] = []
    lines: list[str] = []

    def close() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(path=list(path), markdown=body))

    for line in markdown.splitlines():
        heading = re.match(r"^#{1,6}\s+(.+?)\s*#*$", line)
        if heading:
            close()
            title = heading.group(1).strip("* ")
            path, lines = [title], [f"## {title}"]
        else:
            lines.append(line)
    close()
    return sections


def slugify(text: str) -> str:
    """The Code du travail numérique's URL slug of a title: ASCII, lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# ---------------------------------------------------------------- helpers


def _require_object(entry) -> None:
    if not isinstance(entry, dict):
        raise EntryError(f"expected an object, got {type(entry).__name__}")


def _required_text(entry: dict, key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EntryError(f"missing or empty {key!r}")
    return value.strip()


def _entry_name(entry) -> str:
    if not isinstance(entry, dict):
        return "not an object"
    for key in ("pubId", "index", "id", "title"):
        value = entry.get(key)
        if isinstance(value, (str, int)) and str(value).strip():
            return f"{key}={str(value).strip()[:60]}"
    return "unnamed"


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, EntryError) else f"{type(exc).__name__}: {exc}"

