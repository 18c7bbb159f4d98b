"""Reading a citizen's e-mail: clean it and extract the question(s) it asks.

Greetings, signatures and quoted replies are dropped; questions are the sentences
ending with "?" and the requests ("je voudrais savoir…", "pouvez-vous me dire…",
"merci de m'indiquer…"). Without any, the whole cleaned message is the question.
Any text is accepted (other languages, emoji, control characters); only an empty
message is an error. A message in another language is drafted all the same, with a
notice to the agent (generation.service, retrieval.language). Message text is never logged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from generation.text import collapse_spaces, content_tokens, split_paragraph


class MessageError(ValueError):
    """The message cannot be read (empty, or nothing left once cleaned)."""


@dataclass
class ParsedMessage:
    text: str  # cleaned: no greeting, signature or quoted reply; truncated if needed
    questions: list[str]
    truncated: bool = False
    notices: list[str] = field(default_factory=list)  # French, shown to the agent


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
    r"^\s*(?:bonjour|bonsoir|salut|hello|madame|monsieur|mesdames|messieurs|cher|chère"
    r"|à qui de droit|madame,\s*monsieur)\b[^.?!\n]{0,40}[,!.]?\s*$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:(?:bien |très )?cordialement|bien à vous|salutations|sincères salutations"
    r"|respectueusement|merci d'avance|merci par avance|d'avance merci|merci beaucoup"
    r"|merci pour votre (?:aide|réponse)|dans l'attente de votre réponse|bonne journée"
    r"|bonne soirée|veuillez agréer|je vous prie d'agréer|en vous remerciant|--\s*$)",
    re.IGNORECASE,
)
REQUEST_PATTERNS = re.compile(
    r"\b(?:je (?:voudrais|souhaiterais|souhaite|aimerais|veux|désire)(?: aussi| également| donc| bien)?"
    r" (?:savoir|connaître|"
    r"comprendre|être informée?|avoir des informations|des informations|des précisions)"
    r"|(?:pouvez|pourriez|pourrez)[- ]vous (?:me |m')?(?:dire|indiquer|expliquer|préciser|"
    r"informer|renseigner|aider|confirmer)"
    r"|merci de (?:me |m')?(?:dire|indiquer|préciser|expliquer|renseigner|confirmer)"
    r"|j'aimerais (?:aussi |également )?(?:savoir|connaître|comprendre)"
    r"|(?:quelles?|quels?) (?:sont|est) (?:les|la|le|mes|mon|ma)"
    r"|comment (?:faire|puis-je|dois-je|obtenir|demander)"
    r"|est-ce que|ai-je droit|dois-je|puis-je|peut-on|faut-il)",
    re.IGNORECASE,
)
# Short questions ("Et combien ça coûte ?") get the previous sentence as context.
_MIN_QUESTION_TOKENS = 3


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


_INLINE_GREETING = re.compile(
    r"^\s*(?:bonjour|bonsoir|salut|hello|madame,?\s*monsieur|mesdames,?\s*messieurs)"
    r"(?:\s+(?:madame|monsieur))?\s*[,!.]\s*",
    re.IGNORECASE,
)


def strip_greeting_and_signature(lines: list[str]) -> list[str]:
    while lines and (not lines[0].strip() or _GREETING.match(lines[0])):
        lines = lines[1:]
    if lines:
        lines = [_INLINE_GREETING.sub("", lines[0], count=1), *lines[1:]]
    for index, line in enumerate(lines):
        if index > 0 and _CLOSING.match(line):
            lines = lines[:index]
            break
    return lines


def _sentences(text: str) -> list[str]:
    sentences = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-*•]\s)", text):
        for span in split_paragraph(collapse_spaces(paragraph.replace("\n", " "))):
            sentences.append(span.text)
    return sentences


def extract_questions(text: str, max_questions: int = 3) -> list[str]:
    sentences = _sentences(text)
    questions: list[str] = []
    for index, sentence in enumerate(sentences):
        if not (sentence.rstrip().endswith("?") or REQUEST_PATTERNS.search(sentence)):
            continue
        if len(content_tokens(sentence)) < _MIN_QUESTION_TOKENS and index > 0:
            previous = sentences[index - 1]
            if questions and questions[-1] == previous:
                questions.pop()
            sentence = f"{previous} {sentence}"
        if sentence not in questions:
            questions.append(sentence)
    if not questions:
        return [collapse_spaces(text.replace("\n", " "))[:1000]]
    if len(questions) > max_questions:
        questions = questions[: max_questions - 1] + [" ".join(questions[max_questions - 1 :])]
    return questions


def truncate(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip(), True


def parse_message(message: str | bytes, *, max_chars: int = 6000, max_questions: int = 3) -> ParsedMessage:
    """The cleaned message and its questions; MessageError if there is nothing to read."""
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
    return ParsedMessage(
        text=body,
        questions=extract_questions(body, max_questions),
        truncated=truncated,
        notices=notices,
    )
