"""French text helpers shared by the drafters and the verifier.

Sentence splitting of Markdown passages (list items, table rows, callouts and
headings are units of their own; abbreviations and amounts do not end a sentence),
stemmed content tokens, and numeric facts normalised for comparison.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from ingest.french import MONTHS

ABBREVIATIONS = {
    "art", "m", "mm", "mme", "mmes", "mlle", "n", "no", "cf", "ex", "p", "pp", "av", "bd",
    "etc", "env", "hab", "min", "max", "réf", "ref", "vol", "chap", "al", "dr", "pr", "st",
    "ste", "j.-c", "c", "ca", "fig", "tél", "tel", "nb", "ss", "suiv", "éd", "op", "id",
    "ibid", "approx", "déc", "janv", "févr", "sept", "oct", "nov", "juil",
}

STOPWORDS = set(
    """
    a à au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les
    leur leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour
    qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l m n s
    t y été être est sont suis es sommes êtes ai as avons avez ont avait avaient fait
    faire peut peuvent doit doivent si plus moins très tout tous toute toutes aussi
    comme dont ceci cela ça quel quelle quels quelles quoi comment combien quand
    pourquoi est-ce lorsque ainsi alors bien non oui sans sous entre vers chez après
    avant depuis pendant selon puis donc car or ni autre autres cas ces cela celui
    celle ceux celles dois puis-je peut-on voudrais savoir bonjour merci madame monsieur
    """.split()
)

# snowballstemmer keeps its state in the stemmer object: one per thread (the API drafts
# in a thread pool; a shared one fails with AssertionError/IndexError under load).
_stemmers = threading.local()
_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿœŒæÆ]+(?:['’-][0-9A-Za-zÀ-ÖØ-öø-ÿœŒæÆ]+)*")
_CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")
_APOSTROPHE = re.compile(r"['’]")


@dataclass
class Span:
    start: int
    end: int
    text: str


def fold(text: str) -> str:
    """Lower case without accents: the form used to compare words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# The stopwords as folded words compare ("a", "ou", "etre"): for folded, unstemmed text.
FOLDED_STOPWORDS = frozenset(fold(w) for w in STOPWORDS)


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "french", None)
    if stemmer is None:
        stemmer = _stemmers.french = snowballstemmer.stemmer("french")
    return fold(stemmer.stemWord(word))


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_tokens(text: str) -> list[str]:
    """Stemmed, accent-folded words without stopwords, citations or placeholders."""
    return list(_content_tokens(text))


# The same passage sentences come back in draft after draft: tokenising them was half
# of an extractive draft's CPU time before this cache.
@lru_cache(maxsize=200_000)
def _content_tokens(text: str) -> tuple[str, ...]:
    text = _PLACEHOLDER.sub(" ", _CITATION.sub(" ", text))
    tokens = []
    for word in words(text):
        for part in _APOSTROPHE.split(word.lower()):
            if len(part) > 1 and part not in STOPWORDS and not part.isdigit():
                tokens.append(_stem(part))
            elif part.isdigit():
                tokens.append(part)
    return tuple(tokens)


def citations_in(text: str) -> list[int]:
    numbers: list[int] = []
    for match in _CITATION.finditer(text):
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part.strip())
            if n not in numbers:
                numbers.append(n)
    return numbers


def renumber_citations(text: str, passages: list) -> tuple[str, list]:
    """[n] renumbered 1, 2, 3… in order of first appearance, and the passages reordered
    to match (cited first, then the others in their order). Out-of-range numbers stay."""
    order = [n for n in citations_in(text) if 1 <= n <= len(passages)]
    order += [n for n in range(1, len(passages) + 1) if n not in order]
    new_number = {old: new for new, old in enumerate(order, 1)}

    def replace(match: re.Match) -> str:
        parts = re.split(r"(\s*[,;]\s*)", match.group(1))
        return "[" + "".join(str(new_number.get(int(p), p)) if p.strip().isdigit() else p for p in parts) + "]"

    return _CITATION.sub(replace, text), [passages[n - 1] for n in order]


def strip_citations(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _CITATION.sub("", text)).strip()


# --- sentence splitting -------------------------------------------------------------

_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_BLOCK_LINE = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|#{1,6}\s+|>\s*|\|)")
# A sentence ends before a space, at the end, or, where the fiches lost the space between
# two sentences ("…suffisamment protégé.Par exemple, …"), before a capitalised word.
_END = re.compile(r"[.!?…]+(?:[ \u00a0\u202f]?[»\")\]])*(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*"
                  r"(?=\s+|$|(?<=[a-zà-ÿ]{2}\.)[A-ZÀ-Ý][a-zà-ÿ])")


def _ends_with_abbreviation(text: str) -> bool:
    match = re.search(r"([A-Za-zÀ-ÿ.\-]+)\.$", text)
    if not match:
        return False
    token = match.group(1).lower()
    if token in ABBREVIATIONS:
        return True
    return len(token) == 1 and token.isalpha()  # initials: "J. Dupont"


def _next_starts_sentence(rest: str) -> bool:
    rest = rest.lstrip()
    if not rest:
        return True
    if _CITATION.match(rest):  # "(écrit, téléphone...) [1]." : the marker closes this sentence
        return False
    first = rest[0]
    return first.isupper() or first.isdigit() or first in "«\"([*-"


def split_paragraph(text: str, offset: int = 0) -> list[Span]:
    """Sentences of one paragraph; `offset` is added to the returned positions."""
    spans: list[Span] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        candidate = text[start:end]
        if match.group(0).startswith(".") and _ends_with_abbreviation(text[start : match.start() + 1]):
            continue
        if match.group(0)[0] not in "?!" and not _next_starts_sentence(text[end:]):
            continue
        spans.extend(_trimmed(candidate, offset + start))
        start = end
    spans.extend(_trimmed(text[start:], offset + start))
    return spans


def _trimmed(text: str, offset: int) -> list[Span]:
    stripped = text.strip()
    if not stripped:
        return []
    lead = len(text) - len(text.lstrip())
    return [Span(offset + lead, offset + lead + len(stripped), stripped)]


def split_sentences(text: str, *, line_breaks: bool = False, offset: int = 0) -> list[Span]:
    """Sentences and Markdown block units (list items, table rows, headings).

    With `line_breaks`, every line is a paragraph of its own (drafts, where a
    heading line is followed directly by its answer). `offset` is added to positions.
    """
    spans: list[Span] = []
    position = offset
    paragraph: list[str] = []
    paragraph_start = 0

    def flush() -> None:
        if paragraph:
            joined = "".join(paragraph)
            spans.extend(split_paragraph(joined, paragraph_start))
            paragraph.clear()

    for line in text.splitlines(keepends=True):
        if not line.strip():
            flush()
        elif _TABLE_ROW.match(line):
            flush()  # a row is one unit: its cells' sentences belong to the row
            row = line.rstrip("\n")
            start = position + len(row) - len(row.lstrip())
            spans.append(Span(start, position + len(row.rstrip()), row.strip()))
        elif line_breaks or _BLOCK_LINE.match(line):
            flush()
            spans.extend(split_paragraph(line.rstrip("\n"), position))
        else:
            if not paragraph:
                paragraph_start = position
            paragraph.append(line)
        position += len(line)
    flush()
    return spans


# --- numeric facts -------------------------------------------------------------------

_MONTH_NAMES = "|".join(MONTHS)
_DATE_WORDS = re.compile(
    rf"\b(\d{{1,2}})(?:er|e)?\s+({_MONTH_NAMES})\s+(\d{{4}})\b", re.IGNORECASE
)
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_NUMBER = re.compile(
    r"(?<![\w,.])\d{1,3}(?:[ \u00a0\u202f.]\d{3})+(?:,\d+)?(?![\d])|(?<![\w,])\d+(?:[,.]\d+)?(?![\d])"
)


@dataclass(frozen=True)
class NumericFact:
    surface: str  # as written
    value: str  # normalised: "1500", "15.5", "2024-01-01"


def _normalise_number(raw: str) -> str:
    compact = re.sub(r"[ \u00a0\u202f]", "", raw)
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", compact):
        compact = compact.replace(".", "")
    compact = compact.replace(",", ".")
    if "." in compact:
        compact = compact.rstrip("0").rstrip(".")
    return compact.lstrip("0") or "0"


def numeric_facts(text: str) -> list[NumericFact]:
    """Numbers, amounts, rates, durations, ages and dates, normalised.

    "1 500 €" and "1500 euros" both give 1500; "1er janvier 2024" and "01/01/2024"
    both give 2024-01-01. Citation markers and placeholders are ignored.
    """
    text = _PLACEHOLDER.sub(" ", _CITATION.sub(" ", text))
    facts: list[NumericFact] = []

    def take_date(match: re.Match, day: str, month: int, year: str) -> str:
        facts.append(NumericFact(match.group(0), f"{int(year):04d}-{month:02d}-{int(day):02d}"))
        return " " * len(match.group(0))

    text = _DATE_WORDS.sub(
        lambda m: take_date(m, m.group(1), MONTHS[m.group(2).lower()], m.group(3)), text
    )
    text = _DATE_NUMERIC.sub(lambda m: take_date(m, m.group(1), int(m.group(2)), m.group(3)), text)
    for match in _NUMBER.finditer(text):
        facts.append(NumericFact(match.group(0).strip(), _normalise_number(match.group(0))))
    return facts


def numeric_values(text: str) -> set[str]:
    values = set()
    for fact in numeric_facts(text):
        values.add(fact.value)
        if "-" in fact.value:  # a date also supports its year and day alone
            year, _, day = fact.value.split("-")
            values.update({year.lstrip("0"), day.lstrip("0")})
    return values


def jaccard(a, b) -> float:
    """Overlap of two collections of tokens, as sets (0 when either is empty)."""
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def collapse_spaces(text: str) -> str:
    return re.sub(r"[ \t\u00a0\u202f]+", " ", text).strip()
