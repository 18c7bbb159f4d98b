"""Reading a citizen's e-mail: clean it and extract the question(s) it asks.

Greetings, signatures and quoted replies are dropped; questions are the sentences
ending with "?" and the requests ("je voudrais savoir…", "pouvez-vous me dire…",
"merci de m'indiquer…"). Without any, the whole cleaned message is the question.
Any text is accepted (other languages, emoji, control characters); only an empty
message is an error. A message in another language is drafted all the same, with a
notice to the agent (generation.service, retrieval.search.language). Message text is never logged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from generation.reading import read_needs
from generation.types import Need
from retrieval.errors import CallerError


class MessageError(CallerError):
    """The message cannot be read (empty, or nothing left once cleaned)."""


@dataclass
class ParsedMessage:
    text: str  # cleaned: no greeting, signature or quoted reply; truncated if needed
    needs: list[Need] = field(default_factory=list)  # each question with its situation
    truncated: bool = False
    notices: list[str] = field(default_factory=list)  # French, shown to the agent

    @property
    def questions(self) -> list[str]:
        return [need.question for need in self.needs]


TRUNCATION_NOTICE = (
    "Le message dépassait {limit} caractères : seuls les {limit} premiers ont été analysés."
)

_QUOTE_HEADERS = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Message d'origine|Message original)\s*-{2,}"
    r"|Le .{3,120} a écrit\s*:"
    r"|On .{3,120} wrote\s*:"
    r"|De\s*:\s*.+|From\s*:\s*.+|Envoyé\s*:\s*.+)\s*$",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:bonjour|bonsoir|bjr|bsr|salut|hello|madame|monsieur|mesdames|messieurs|cher|chère"
    r"|à qui de droit|madame,\s*monsieur)\b(?:[ \t,]+[^\s.?!,]+){0,4}[ \t]*[,!.]?\s*$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:(?:bien |très |tres )?cordialement|bien à vous|salutations|sincères salutations"
    r"|respectueusement|d'avance merci|(?:un )?(?:grand )?merci\b(?!\s+de\s+(?:me |m')?(?:dire|indiquer"
    r"|préciser|preciser|expliquer|renseigner|confirmer))"
    r"|dans l'attente de votre réponse|bonne journée|je vous remercie|avec mes remerciements"
    r"|bonne soirée|veuillez agréer|je vous prie d'agréer|en vous remerciant|obrigada|--\s*$)",
    re.IGNORECASE,
)


def clean_text(raw: str | bytes) -> str:
    """Decoded, NFC, without control characters; line breaks kept."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C"
    ).strip()


def strip_quoted_reply(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if _QUOTE_HEADERS.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return kept


# "Bonjour, nous venons…", "bonjour je voudrais…", "bjr ma femme et moi…"
_INLINE_GREETING = re.compile(
    r"^\s*(?:bonjour|bonsoir|bjr|bsr|salut|hello|madame,?\s*monsieur|mesdames,?\s*messieurs)"
    r"(?:\s+(?:madame|monsieur)(?:,?\s*(?:madame|monsieur))?)?\s*(?:[,!.]\s*|\s+(?=\w))",
    re.IGNORECASE,
)


def is_closing_line(line: str) -> bool:
    """"Merci d'avance", "Cordialement," — not "Merci pour votre réponse, j'ai une autre question…"."""
    return bool(_CLOSING.match(line)) and "?" not in line and len(line.split()) <= 12


def strip_greeting_and_signature(lines: list[str]) -> list[str]:
    while lines and (not lines[0].strip() or _GREETING.match(lines[0])):
        lines = lines[1:]
    if lines:
        lines = [_INLINE_GREETING.sub("", lines[0], count=1), *lines[1:]]
    for index, line in enumerate(lines):
        if index > 0 and is_closing_line(line):
            lines = lines[:index]
            break
    return lines


def extract_questions(text: str, max_questions: int = 3) -> list[str]:
    """The questions of a cleaned message (see generation.reading for the rules)."""
    return [need.question for need in read_needs(text, max_questions)] or [text[:1000]]


def truncate(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip(), True


def parse_message(message: str | bytes, *, max_chars: int = 6000, max_questions: int = 3) -> ParsedMessage:
    """The cleaned message and its questions (none read with `max_questions=0`: a caller
    that reads the masked text itself); MessageError if there is nothing to read."""
    if message is None:
        raise MessageError("message is missing")
    text = clean_text(message)
    if not text:
        raise MessageError("message is empty")
    notices = []
    text, truncated = truncate(text, max_chars)
    if truncated:
        notices.append(TRUNCATION_NOTICE.format(limit=max_chars))
    lines = strip_greeting_and_signature(strip_quoted_reply(text.split("\n")))
    body = "\n".join(lines).strip() or text
    if not re.search(r"\w", body):
        raise MessageError("message contains no words")
    needs = (read_needs(body, max_questions) or [Need(question=body[:1000])]) if max_questions else []
    return ParsedMessage(
        text=body,
        needs=needs,
        truncated=truncated,
        notices=notices,
    )
