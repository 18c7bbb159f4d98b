"""The law beside the passage: the articles of four codes, from @socialgouv/legi-data.

    build_article_store(package_dir / "data", index_dir / "articles.sqlite")
    store = ArticleStore(index_dir / "articles.sqlite")      # opened on first lookup
    store.resolve(reference)                                 # LegalReference -> Resolution

legi-data holds, per code, the tree of its sections and articles in their version in
force (number, text, start date, the identifiers of the article's other versions). The
store is a SQLite file, written whole through a temporary file and renamed, read
lazily: the articles are shown under a cited passage, not indexed.

A reference resolves when it names articles of one of the four codes: a LEGIARTI link
(any version of the article), a LEGISCTA link (the articles its label names, else the
articles of the section), a LEGITEXT link whose label names articles ("Code du travail :
articles L3141-1 à L3141-3"); a label naming one of the codes is read the same way when
the link's identifier is not in the store (sections renumbered since the fiche).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ingest.model import LegalReference

CODES = {
    "LEGITEXT000006072050": "Code du travail",
    "LEGITEXT000006073189": "Code de la sécurité sociale",
    "LEGITEXT000031366350": "Code des relations entre le public et l'administration",
    "LEGITEXT000022197698": "Code rural et de la pêche maritime",
}
# The code's other identifier (legi-data names the rural code by its version's ID).
CODE_ALIASES = {"LEGITEXT000006071367": "LEGITEXT000022197698"}
STORE_FORMAT = 1
# A section or a range shows at most this many articles (a whole chapter is a link, not a page).
MAX_ARTICLES = 12
_ARTICLE_NUMBER = re.compile(r"\b([LRDA])\s*\.?\s*\*?\s*(\d+(?:\s*-\s*\d+)*)")
_RANGE = re.compile(r"^\s*(?:à|au)\s", re.IGNORECASE)


class ArticleStoreError(ValueError):
    """A legi-data file or an article store that cannot be read."""


@dataclass
class Article:
    id: str  # the version in force
    cid: str  # the article, whatever its version
    code_id: str
    code: str  # the code's title
    number: str  # "L1234-9"
    text: str
    status: str  # VIGUEUR, VIGUEUR_DIFF (in force later), ABROGE_DIFF…
    start: str  # the version in force's start date, YYYY-MM-DD
    url: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Resolution:
    """What a reference points to in the four codes."""

    code_id: str = ""  # "" when the reference is not into one of the four codes
    articles: list[Article] = field(default_factory=list)
    more: int = 0  # articles of the section or range beyond MAX_ARTICLES

    @property
    def in_codes(self) -> bool:
        return bool(self.code_id)

    @property
    def resolved(self) -> bool:
        return bool(self.articles)


def normalise_number(text: str) -> str:
    """'L. 1234-9', 'R*196-1', 'L 1234 - 9' → 'L1234-9'."""
    return re.sub(r"[\s.*]", "", text).upper()


# ---------------------------------------------------------------- building


def build_article_store(data_dir: Path, dest: Path, progress: Callable[[str], None] | None = None) -> dict:
    """Reads data/LEGITEXT….json of the four codes into a SQLite file at `dest`,
    replaced atomically. Returns {code_id: articles}."""
    data_dir, dest = Path(data_dir), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    counts: dict[str, int] = {}
    try:
        db = sqlite3.connect(tmp)
        _create_tables(db)
        for code_id, title in CODES.items():
            path = data_dir / f"{code_id}.json"
            if not path.is_file():
                raise ArticleStoreError(f"{path}: missing (expected the {title} of @socialgouv/legi-data)")
            counts[code_id] = _load_code(db, path, code_id)
            if progress is not None:
                progress(f"articles: {title}, {counts[code_id]} articles")
        db.execute("INSERT INTO meta VALUES ('format', ?), ('counts', ?)", (str(STORE_FORMAT), json.dumps(counts)))
        db.commit()
        db.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts


def _create_tables(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE articles (cid TEXT PRIMARY KEY, id TEXT, code_id TEXT, number TEXT,
            text TEXT, status TEXT, start TEXT, position INTEGER, section TEXT);
        CREATE TABLE versions (id TEXT PRIMARY KEY, cid TEXT);
        CREATE TABLE sections (id TEXT PRIMARY KEY, code_id TEXT, parent TEXT, title TEXT);
        CREATE INDEX articles_number ON articles (code_id, number);
        CREATE INDEX articles_position ON articles (code_id, position);
        CREATE INDEX articles_section ON articles (section);
        CREATE INDEX sections_parent ON sections (parent);
        """
    )


def _load_code(db: sqlite3.Connection, path: Path, code_id: str) -> int:
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
        names = {tree.get("data", {}).get("cid"), tree.get("data", {}).get("id")}
    except (ValueError, AttributeError) as exc:
        raise ArticleStoreError(f"{path}: not a legi-data code ({exc})") from exc
    if tree.get("type") != "code" or code_id not in names:
        raise ArticleStoreError(f"{path}: not the legi-data tree of {code_id}")
    articles = versions = 0
    for position, (node, section) in enumerate(_articles(tree, code_id, db)):
        data = node["data"]
        db.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (data["cid"], data["id"], code_id, normalise_number(data.get("num") or ""),
                    data.get("texte") or "", data.get("etat") or "", _iso(data.get("dateDebut")),
                    position, section))
        ids = {data["id"], data["cid"], *(v.get("id") for v in data.get("articleVersions") or [])}
        db.executemany("INSERT OR IGNORE INTO versions VALUES (?, ?)", [(i, data["cid"]) for i in ids if i])
        articles += 1
        versions += len(ids)
    return articles


def _articles(tree: dict, code_id: str, db: sqlite3.Connection) -> Iterator[tuple[dict, str]]:
    """Articles in code order, with their section; sections are stored on the way."""
    stack = [(tree, "")]
    while stack:
        node, parent = stack.pop()
        kind = node.get("type")
        if kind == "article":
            yield node, parent
            continue
        if kind == "section":
            data = node["data"]
            db.execute("INSERT OR IGNORE INTO sections VALUES (?, ?, ?, ?)",
                       (data["cid"], code_id, parent, data.get("title") or ""))
            if data.get("id") and data["id"] != data["cid"]:
                db.execute("INSERT OR IGNORE INTO sections VALUES (?, ?, ?, ?)",
                           (data["id"], code_id, parent, data.get("title") or ""))
            parent = data["cid"]
        stack.extend((child, parent) for child in reversed(node.get("children") or []))


def _iso(value) -> str:
    """legi-data dates: epoch milliseconds (articles) or 'YYYY-MM-DD' (sections)."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).date().isoformat()
    return str(value or "")[:10]


# ---------------------------------------------------------------- reading


class ArticleStore:
    """Lookups in a store built by build_article_store; the file is opened on the
    first lookup. A missing file resolves nothing (guichet without legi-data)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._opened = False

    @property
    def available(self) -> bool:
        return self._connection() is not None

    def _connection(self) -> sqlite3.Connection | None:
        if not self._opened:
            self._opened = True
            if self.path.is_file():
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
                try:
                    found = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                except sqlite3.DatabaseError as exc:
                    raise ArticleStoreError(f"{self.path}: not an article store ({exc})") from exc
                if found is None or found[0] != str(STORE_FORMAT):
                    raise ArticleStoreError(f"{self.path}: article store format {found and found[0]!r}, "
                                            f"expected {STORE_FORMAT}: rebuild it with `guichet ingest --articles …`")
                self._db = db
        return self._db

    def counts(self) -> dict[str, int]:
        db = self._connection()
        if db is None:
            return {}
        return json.loads(db.execute("SELECT value FROM meta WHERE key = 'counts'").fetchone()[0])

    def article(self, identifier: str) -> Article | None:
        """An article by the identifier of any of its versions."""
        db = self._connection()
        if db is None:
            return None
        row = db.execute("SELECT a.* FROM versions v JOIN articles a ON a.cid = v.cid WHERE v.id = ?",
                         (identifier,)).fetchone()
        return _article(row) if row else None

    def by_number(self, code_id: str, number: str) -> Article | None:
        db = self._connection()
        row = db.execute("SELECT * FROM articles WHERE code_id = ? AND number = ?",
                         (code_id, normalise_number(number))).fetchone() if db else None
        return _article(row) if row else None

    def between(self, code_id: str, first: Article, last: Article) -> list[Article]:
        low, high = sorted((self._position(first), self._position(last)))
        rows = self._connection().execute(
            "SELECT * FROM articles WHERE code_id = ? AND position BETWEEN ? AND ? ORDER BY position",
            (code_id, low, high)).fetchall()
        return [_article(r) for r in rows]

    def section_code(self, section_id: str) -> str:
        db = self._connection()
        row = db.execute("SELECT code_id FROM sections WHERE id = ?", (section_id,)).fetchone() if db else None
        return row[0] if row else ""

    def section_articles(self, section_id: str) -> list[Article]:
        rows = self._connection().execute(
            """WITH RECURSIVE tree(id) AS (SELECT ? UNION SELECT s.id FROM sections s JOIN tree ON s.parent = tree.id)
               SELECT a.* FROM articles a WHERE a.section IN (SELECT id FROM tree) ORDER BY a.position""",
            (section_id,)).fetchall()
        return [_article(r) for r in rows]

    def _position(self, article: Article) -> int:
        return self._connection().execute("SELECT position FROM articles WHERE cid = ?", (article.cid,)).fetchone()[0]

    def resolve(self, reference: LegalReference) -> Resolution:
        if self._connection() is None:
            return Resolution()
        identifier = reference.legifrance_id or ""
        if identifier.startswith("LEGIARTI"):
            found = self.article(identifier)
            if found is not None:
                return Resolution(found.code_id, [found])
        code_id = self._code_of(reference)
        if not code_id:
            return Resolution()
        articles = self._named_articles(code_id, _label_head(reference.label))
        if not articles and identifier.startswith("LEGISCTA"):
            articles = self.section_articles(identifier)
        return Resolution(code_id, articles[:MAX_ARTICLES], max(0, len(articles) - MAX_ARTICLES))

    def _code_of(self, reference: LegalReference) -> str:
        identifier = reference.legifrance_id or ""
        identifier = CODE_ALIASES.get(identifier, identifier)
        if identifier in CODES:
            return identifier
        if identifier.startswith("LEGISCTA"):
            code_id = self.section_code(identifier)
            if code_id:
                return code_id
        for code_id in [*CODES, *CODE_ALIASES]:
            if code_id in reference.url:
                return CODE_ALIASES.get(code_id, code_id)
        return code_named(reference.label)

    def _named_articles(self, code_id: str, label: str) -> list[Article]:
        """The articles a label names: 'articles L1234-1 à L1234-8', 'L. 3141-1 et R3141-2'."""
        articles: list[Article] = []
        matches = list(_ARTICLE_NUMBER.finditer(label))
        previous = None
        for i, match in enumerate(matches):
            found = self.by_number(code_id, match.group(1) + match.group(2))
            ranged = i > 0 and _RANGE.match(label[matches[i - 1].end():match.start()])
            if found is not None and ranged and previous is not None:
                articles.extend(a for a in self.between(code_id, previous, found) if a not in articles)
            elif found is not None and found not in articles:
                articles.append(found)
            previous = found
        return articles


def _article(row) -> Article:
    cid, identifier, code_id, number, text, status, start, _position, _section = row
    from ingest.legifrance import legifrance_url

    return Article(identifier, cid, code_id, CODES.get(code_id, code_id), number, text, status, start,
                   legifrance_url(cid))


def _label_head(label: str) -> str:
    """The label without the complement guichet joins after ' — ' (the topic)."""
    return label.split(" — ", 1)[0]


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


_CODE_NAMES = {_folded(title): code_id for code_id, title in CODES.items()}


def code_named(label: str) -> str:
    """The code a label starts with ('Code du travail : article L1234-9'), else ''."""
    head = _folded(label)
    for name, code_id in _CODE_NAMES.items():
        if head.startswith(name) and not head[len(name):len(name) + 1].isalpha():
            return code_id
    return ""


# ---------------------------------------------------------------- ingest summary


class ReferenceTally:
    """Counts, over the fiches of a run, the references into the four codes that
    resolve (per code) and the cited articles changed after their fiche (per source)."""

    def __init__(self, store: ArticleStore):
        self.store = store
        self.per_code: dict[str, dict[str, int]] = {}
        self.changed: dict[str, dict[str, int]] = {}

    def __call__(self, fiche) -> None:
        changed_articles = 0
        for reference in fiche.legal_references:
            resolution = self.store.resolve(reference)
            if not resolution.in_codes:
                continue
            counts = self.per_code.setdefault(CODES[resolution.code_id], {"resolved": 0, "unresolved": 0})
            counts["resolved" if resolution.resolved else "unresolved"] += 1
            changed_articles += sum(1 for a in resolution.articles if changed_after(a, fiche.date))
        if changed_articles:
            counts = self.changed.setdefault(fiche.source, {"fiches": 0, "articles": 0})
            counts["fiches"] += 1
            counts["articles"] += changed_articles

    def summary(self) -> dict:
        per_code = {}
        for code, counts in sorted(self.per_code.items()):
            total = counts["resolved"] + counts["unresolved"]
            per_code[code] = {**counts, "share_resolved": round(counts["resolved"] / total, 3) if total else 0.0}
        return {"references_into_codes": per_code, "law_changed_after_fiche": dict(sorted(self.changed.items()))}


def changed_after(article: Article, fiche_date: str) -> bool:
    """The article's version in force started after the fiche's last update."""
    return bool(fiche_date and article.start and article.start > fiche_date)
