"""What word overlap cannot see: a claim that says the opposite of its supporting span.

Lexical support counts content words, and French negation, opposites and the office
that does something are stopwords or single words: "vous ne pouvez pas" and "vous
pouvez", "avant 18 ans" and "après 18 ans", "à la mairie" and "à la préfecture" overlap
almost entirely. These checks compare a claim with the passage span that supports it:

- `polarity_conflict`: a word negated on one side only ("n'est pas obligatoire");
- `opposite_conflict`: a word of the claim whose opposite, or another actor of the same
  kind, stands in the span in its place (OPPOSITES, ACTORS);
- `missing_condition`: the span's sentence carries a condition ("si…", "sauf…", "à
  condition…") that the claim leaves out.

Each returns the French reason shown to the agent, or None.
"""

from __future__ import annotations

import re

from generation.text import content_tokens, fold

# Pairs of words whose swap inverts a rule (matched on folded words at word boundaries).
OPPOSITES: list[tuple[str, str]] = [
    ("obligatoire", "facultatif"), ("obligatoire", "facultative"), ("obligatoires", "facultatifs"),
    ("interdit", "autorise"), ("interdite", "autorisee"), ("interdits", "autorises"),
    ("gratuit", "payant"), ("gratuite", "payante"),
    ("possible", "impossible"), ("avant", "apres"), ("plus de", "moins de"),
    ("au moins", "au plus"), ("au minimum", "au maximum"), ("minimum", "maximum"),
    ("majeur", "mineur"), ("majeure", "mineure"), ("majeurs", "mineurs"),
    ("superieur", "inferieur"), ("superieure", "inferieure"),
    ("toujours", "jamais"), ("sans", "avec"), ("accepte", "refuse"),
    ("inclus", "exclu"),
]

# Offices and parties: naming one where the span names another of the same kind is a
# wrong actor ("la mairie" for "la préfecture"), not a paraphrase.
ACTORS: list[tuple[str, ...]] = [
    ("mairie", "prefecture", "sous-prefecture", "commissariat", "gendarmerie", "consulat",
     "tribunal", "notaire", "avocat", "huissier", "commissaire de justice"),
    ("caf", "cpam", "msa", "urssaf", "carsat", "pole emploi", "france travail",
     "assurance maladie", "assurance retraite", "centre des finances publiques", "ants"),
    ("employeur", "salarie"), ("locataire", "proprietaire", "bailleur"),
    ("vendeur", "acheteur"), ("pere", "mere"), ("tribunal judiciaire", "tribunal administratif"),
]

_NEGATORS = {"pas", "plus", "jamais", "rien", "aucun", "aucune", "guere", "point", "nullement"}
_NEGATIVE_SUBJECTS = {"aucun", "aucune", "rien", "personne", "nul", "nulle"}
_CLITICS = {"me", "te", "se", "s", "le", "la", "les", "l", "lui", "leur", "y", "en", "vous", "nous", "m", "t"}
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PUNCTUATED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[,;:.!?()]")
_PRONOUNS = {"il", "elle", "ils", "elles", "on", "vous", "nous", "je", "tu", "ce", "cela"}
_CONDITION = re.compile(
    r"\b(?:si|sauf|a condition|a l exception|a moins|sous reserve|uniquement|seulement|lorsque"
    r"|des lors qu|dans la mesure ou)\b[^,;:.()]*"
)


def _folded(text: str) -> str:
    """Lower case, no accents, apostrophes as spaces ("l'employeur" -> "l employeur")."""
    return fold(text).replace("’", "'").replace("'", " ")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_folded(text))


def polarity(text: str) -> tuple[set[str], set[str]]:
    """(words under a negation, words outside one), folded: "ne peut pas dépasser" puts
    "peut" and "depasser" under the negation. A negation stops at punctuation."""
    tokens = _PUNCTUATED.findall(_folded(text))
    negated: set[int] = set()
    for i, token in enumerate(tokens):
        if token not in ("ne", "n"):
            continue
        window = _until_punctuation(tokens[i + 1 : i + 6])
        negator = next((j for j, t in enumerate(window) if t in _NEGATORS), None)
        if negator is not None:
            words = [i + 1 + j for j in range(negator) if window[j] not in _CLITICS]
            after = i + 2 + negator
            if after < len(tokens) and tokens[after] in ("de", "d"):  # "ne permet pas de récupérer"
                after += 1
            if after < len(tokens) and tokens[after] not in _PRONOUNS and tokens[after][0].isalnum():
                words.append(after)
        elif _NEGATIVE_SUBJECTS & set(tokens[max(0, i - 6) : i]):
            words = [i + 1 + j for j, t in enumerate(window[:2]) if t not in _CLITICS]
        else:
            continue
        negated.update(words)
    under = {tokens[i] for i in negated if len(tokens[i]) > 2 and tokens[i][0].isalnum()}
    outside = {t for i, t in enumerate(tokens) if i not in negated and len(t) > 2 and t[0].isalnum()}
    return under, outside


def _until_punctuation(tokens: list[str]) -> list[str]:
    for i, token in enumerate(tokens):
        if not token[0].isalnum():
            return tokens[:i]
    return tokens


def polarity_conflict(claim: str, span: str) -> str | None:
    claim_neg, claim_plain = polarity(claim)
    span_neg, span_plain = polarity(span)
    for word in sorted(span_neg & claim_plain):
        if word not in claim_neg and word not in span_plain:
            return f"Le passage cité dit le contraire (négation : « {word} »)."
    for word in sorted(claim_neg & span_plain):
        if word not in span_neg and word not in claim_plain:
            return f"Négation absente du passage cité (« {word} »)."
    return None


def _count(text: str, phrase: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text))


def opposite_conflict(claim: str, span: str) -> str | None:
    """A word of the claim absent from the span where the span has its opposite, or an
    actor named more often in the claim than in the span where the span names another
    actor of the same kind more often ("l'employeur remet à l'employeur" for "le salarié
    remet à l'employeur")."""
    claim_f, span_f = " ".join(_tokens(claim)), " ".join(_tokens(span))
    for a, b in OPPOSITES:
        for word, other in ((a, b), (b, a)):
            if _count(claim_f, word) and not _count(span_f, word) and _count(span_f, other):
                return f"Le passage cité dit « {other} », pas « {word} »."
    for group in ACTORS:
        surplus = [a for a in group if _count(claim_f, a) > _count(span_f, a)]
        missing = [a for a in group if _count(span_f, a) > _count(claim_f, a)]
        if surplus and missing:
            return f"Le passage cité parle de « {missing[0]} », pas de « {surplus[0]} »."
    return None


def missing_condition(claim: str, sentence: str) -> str | None:
    """The supporting sentence states a condition whose words the claim leaves out."""
    claim_tokens = set(content_tokens(claim))
    claim_words = set(_tokens(claim))
    for match in _CONDITION.finditer(_folded(sentence)):
        clause = set(content_tokens(match.group(0)))
        if len(clause) < 2:
            continue
        kept = len(clause & claim_tokens) / len(clause)
        if kept < 0.34 and match.group(0).split()[0] not in claim_words:
            return f"Condition du passage cité omise : « {match.group(0).strip()} »."
    return None
