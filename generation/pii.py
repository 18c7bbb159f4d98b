"""Personal data in citizens' messages: mask before any text leaves for an LLM.

`mask(text)` replaces e-mails, phone numbers, IBANs, social security numbers (NIR),
tax numbers, other file numbers, dates of birth, postal addresses and names with
placeholders such as [EMAIL_1], [TELEPHONE_1], [NOM_1]; the same value always gets the
same placeholder. `unmask(text, mapping)` puts values back into the agent's draft.
Rules are regular expressions tuned to French usage; nothing here logs text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_UPPER = "A-ZÀ-ÖØ-ÞŒ"
_LOWER = "a-zß-öø-ÿœ"
# A name word: "Dupont", "DUPONT", "Jean-Pierre", "O'Neil", "Lefèvre".
_NAME_WORD = rf"[{_UPPER}](?:[{_LOWER}]+|[{_UPPER}]+)(?:['’-][{_UPPER}]?[{_LOWER}{_UPPER}]+)*"
_PARTICLE = r"(?:de|du|des|d'|le|la|van|von|da|di|ben|el)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,3}}"

# Words that look like names after a trigger but are not ("Madame la Directrice").
_NOT_NAMES = {
    "madame", "monsieur", "le", "la", "les", "directeur", "directrice", "maire", "préfet",
    "président", "présidente", "juge", "docteur", "agent", "service", "caf", "cpam", "urssaf",
    "france", "travail", "pôle", "emploi", "je", "nous", "vous", "bonjour", "merci",
    "cordialement", "objet", "salarié", "salariée", "retraité", "retraitée", "en", "au",
    "français", "française", "francais", "francaise", "européen", "européenne", "étranger",
    "étrangère", "allocation", "allocations", "caisse", "prime", "carte", "aide", "impôts",
    "sécurité", "assurance", "mairie", "préfecture", "tribunal", "ministère", "centre",
}

_MONTHS = (
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    "novembre|décembre|decembre"
)
_DATE = rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}})"
_VOIE = (
    r"(?:rue|avenue|av\.|boulevard|bd|bld|place|pl\.|chemin|ch\.|allée|allee|impasse|route|"
    r"quai|cours|square|sq\.|lotissement|résidence|residence|voie|passage|faubourg|fbg|"
    r"cité|cite|hameau|lieu-dit|sentier|rond-point|parvis|promenade|esplanade|mail|villa|"
    r"chaussée|montée|traverse|venelle|ruelle|domaine|clos)"
)
_COMMUNE = rf"[{_UPPER}][{_LOWER}{_UPPER}'’-]+(?:[ -](?:(?:sur|sous|en|de|du|la|le|les|lès|aux|d')[ -])?[{_UPPER}][{_LOWER}{_UPPER}'’-]+){{0,4}}(?:\s+(?:Cedex|CEDEX)(?:\s+\d{{1,2}})?)?"

# An e-mail address: the one pattern masking, verification and stored records use.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# (kind, compiled pattern, group holding the value or 0). Order matters: longer,
# more specific numbers first so that a NIR is not taken for a phone number.
_RULES: list[tuple[str, re.Pattern, int]] = [
    ("EMAIL", EMAIL, 0),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b"), 0),
    (
        "NUMERO_FISCAL",
        re.compile(
            r"(?:num[ée]ro (?:fiscal|SPI|d'identification fiscale)|n°\s*fiscal|SPI)\s*:?\s*"
            r"((?:\d[ .]?){12}\d)",
            re.IGNORECASE,
        ),
        1,
    ),
    (
        "NIR",
        re.compile(
            r"(?<![\d])[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?\d{3}"
            r"[ .]?\d{3}(?:[ .]?\d{2})?(?![\d])"
        ),
        0,
    ),
    (
        "TELEPHONE",
        re.compile(
            r"(?<![\d\w])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?|0)[1-9](?:[ .-]?\d{2}){4}(?![\d])"
            r"|(?<![\d\w])(?:\+|00)[1-9]\d{0,2}[ .-]?(?:\(0\)[ .-]?)?\d(?:[ .-]?\d){6,12}(?![\d])"
        ),
        0,
    ),
    ("NUMERO_FISCAL", re.compile(r"(?<![\d])[0-3]\d(?:[ ]?\d){11}(?![\d])"), 0),
    (
        "IDENTIFIANT",
        re.compile(
            r"(?:num[ée]ro|n°|no|référence|identifiant|matricule)\s+(?:d'|de |du )?"
            r"(?:allocataire|dossier|client|adhérent|sécurité sociale|sécu|passeport|"
            r"carte d'identité|permis|titre de séjour|demandeur d'emploi|identifiant|"
            r"immatriculation|siret|siren|contrat|pension|retraite|invalidité|"
            r"caf|france travail|pôle emploi|cpam)\s*(?:(?:caf|cpam|msa|urssaf)\s+)?(?:est\s+)?(?:le\s+)?:?\s*"
            # The value: letters and digits with a digit near its start, spaces only
            # before more digits, and never cut inside a word ("en cours", "demandé").
            r"((?=[A-Z]{0,4}[ ./-]?\d)[A-Z0-9](?:[A-Z0-9./-]|\s(?=[A-Z]{0,4}[ ./-]?\d)){3,24}(?<=[A-Z0-9])(?:\s[A-Z](?=[.,;:!?)]|$))?)(?![\w])",
            re.IGNORECASE,
        ),
        1,
    ),
    (
        "DATE_NAISSANCE",
        re.compile(
            rf"(?:n[ée]e?s?\s+le|date de naissance\s*:?|naissance\s*:)\s*({_DATE})", re.IGNORECASE
        ),
        1,
    ),
    (
        "ADRESSE",
        re.compile(
            rf"\b\d{{1,4}}(?:\s?(?:bis|ter|[AB]))?,?\s+{_VOIE}\s+(?:[{_LOWER}{_UPPER}'’.-]+\s?){{1,6}}"
            rf"(?:,?\s*(?:\d{{5}}|\d{{2}}\s\d{{3}})\s+{_COMMUNE})?",
            re.IGNORECASE,
        ),
        0,
    ),
    ("ADRESSE", re.compile(rf"(?<![\d\w])(?:\d{{5}}|\d{{2}} \d{{3}})\s+{_COMMUNE}"), 0),
    ("ADRESSE", re.compile(r"\b(?:BP|CS|boîte postale)\s*\d{2,6}\b"), 0),
]

_NAME_RULES: list[re.Pattern] = [
    re.compile(rf"(?i:je m'appelle|je me nomme|mon nom est|moi,|nom\s*:|prénom\s*:|"
               rf"nom et prénom\s*:|nom de famille\s*:|je suis|nous sommes|au nom de|my name is|i am|"
               rf"i'm|ich heiße|me llamo|mi chiamo)\s+({_NAME})"),
    re.compile(rf"({_NAME}),?\s+(?:n[ée]e?\s+le|n[ée]e?\s+en|âgée? de)"),
    re.compile(rf"\b(?:Madame|Monsieur|Mme|Mlle|Mademoiselle|M\.|Mr|Me|Maître|Dr|Docteur)\s+({_NAME})"),
    re.compile(
        rf"(?i:mon (?:fils|mari|époux|epoux|conjoint|compagnon|père|pere|frère|frere|"
        rf"oncle|neveu|petit-fils|voisin|employeur|bailleur|propriétaire|ex-mari)"
        rf"|ma (?:fille|femme|épouse|epouse|conjointe|compagne|mère|mere|sœur|soeur|"
        rf"tante|nièce|niece|petite-fille|voisine|propriétaire|ex-femme)"
        rf"|mes enfants|mes fils|mes filles),?\s+({_NAME})"
    ),
    re.compile(
        rf"(?i:cordialement|bien à vous|salutations|respectueusement|merci d'avance|"
        rf"merci par avance|merci|sincères salutations|distinguées)[ ,.!]*\n?\s*({_NAME})\s*$",
        re.MULTILINE,
    ),
]
# A signature: a line of two or three name words among the last lines of the message.
_SIGNATURE_LINE = re.compile(rf"^\s*({_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{1,2}})\s*$")
_SIGNATURE_LINES = 3

_PLACEHOLDER = re.compile(r"\[([A-Z_]+)_(\d+)\]")


@dataclass
class MaskedText:
    text: str
    mapping: dict[str, str] = field(default_factory=dict)  # "[EMAIL_1]" -> "a@b.fr"

    def kinds(self) -> set[str]:
        return {placeholder[1:].rsplit("_", 1)[0] for placeholder in self.mapping}


class _Masker:
    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._by_value: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, re.sub(r"\s+", " ", value.strip()).lower())
        if key not in self._by_value:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._by_value[key] = placeholder
            self.mapping[placeholder] = value.strip()
        return self._by_value[key]

    def replace(self, text: str, pattern: re.Pattern, kind: str, group: int) -> str:
        def substitute(match: re.Match) -> str:
            value = match.group(group)
            start, end = match.span(group)
            if kind == "NOM":
                value = _trim_name(value)
                if not _is_name(value):
                    return match.group(0)
                end = start + len(value)
            offset = match.start()
            whole = match.group(0)
            return whole[: start - offset] + self.placeholder(kind, value) + whole[end - offset :]

        return pattern.sub(substitute, text)


def _is_name(value: str) -> bool:
    words = value.split()
    if not words or any(word.lower().strip(",.") in _NOT_NAMES for word in words[:1]):
        return False
    return not all(word.lower() in _NOT_NAMES for word in words)


def _trim_name(value: str) -> str:
    words = value.split()
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    return " ".join(words)


def mask(text: str) -> MaskedText:
    """The text with personal values replaced by placeholders, and the mapping back."""
    masker = _Masker()
    for kind, pattern, group in _RULES:
        text = masker.replace(text, pattern, kind, group)
    for pattern in _NAME_RULES:
        text = masker.replace(text, pattern, "NOM", 1)
    text = _mask_signature(text, masker)
    text = _mask_known_names(text, masker)
    return MaskedText(text=text, mapping=masker.mapping)


def _mask_signature(text: str, masker: _Masker) -> str:
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    for index in filled[-_SIGNATURE_LINES:]:
        lines[index] = masker.replace(lines[index], _SIGNATURE_LINE, "NOM", 1)
    return "\n".join(lines)


def _mask_known_names(text: str, masker: _Masker) -> str:
    """A name found once is masked everywhere; its surname alone too, with the first
    name before it if any ("Sylvie Perrin" once "Jacqueline Perrin" is known)."""
    names = [v for p, v in masker.mapping.items() if p.startswith("[NOM_")]
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w\[]){re.escape(name)}(?![\w\]])", masker.placeholder("NOM", name), text)
    surnames = {name.split()[-1] for name in names if len(name.split()) > 1}
    for surname in sorted(surnames, key=len, reverse=True):
        if len(surname) < 3:
            continue
        pattern = re.compile(rf"(?<![\w\[])(?:({_NAME_WORD})\s+)?{re.escape(surname)}(?![\w\]])")

        def substitute(match: re.Match, surname: str = surname) -> str:
            first = match.group(1)
            if first and first.lower() not in _NOT_NAMES:
                return masker.placeholder("NOM", match.group(0))
            prefix = match.group(0)[: len(match.group(0)) - len(surname)]
            return prefix + masker.placeholder("NOM", surname)

        text = pattern.sub(substitute, text)
    return text


def unmask(text: str, mapping: dict[str, str], kinds: Iterable[str] | None = None) -> str:
    """Put the values back; with `kinds`, only those kinds (e.g. ["NOM"])."""
    allowed = set(kinds) if kinds is not None else None

    def substitute(match: re.Match) -> str:
        placeholder = match.group(0)
        if placeholder not in mapping or (allowed is not None and match.group(1) not in allowed):
            return placeholder
        return mapping[placeholder]

    return _PLACEHOLDER.sub(substitute, text)
