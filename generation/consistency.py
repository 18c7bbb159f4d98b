"""What word overlap cannot see: a claim that says the opposite of its supporting span.

Lexical support counts content words, and French negation, opposites and the office
that does something are stopwords or single words: "vous ne pouvez pas" and "vous
pouvez", "avant 18 ans" and "après 18 ans", "à la mairie" and "à la préfecture" overlap
almost entirely. These checks compare a claim with the passage span that supports it:

- `polarity_conflict`: a word negated on one side only ("n'est pas obligatoire");
- `opposite_conflict`: a word of the claim whose opposite, or another actor of the same
  kind, stands in the span in its place (OPPOSITES, ACTORS);
- `role_conflict`: the claim names an office, authority, party or profession where the
  span, aligned word for word around it, names another one (ROLE_LEXICON, derived from
  the corpus: `python -m generation.consistency <fiches> > generation/data/roles.tsv`);
- `missing_condition`: the span's sentence carries a condition ("si…", "sauf…", "à
  condition…") that the claim leaves out.

Each returns the French reason shown to the agent, or None.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from generation.text import FOLDED_STOPWORDS, content_tokens, fold

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


# -- roles: offices, authorities, parties and professions named by the corpus ---------

ROLE_LEXICON = Path(__file__).parent / "data" / "roles.tsv"
# A replaced stretch longer than this (in words and roles) is a rewording, not a swap.
SWAP_MAX_WORDS = 4


@dataclass(frozen=True)
class RoleLexicon:
    """Surface forms (folded word tuples: "caf", "caisse d allocations familiales",
    "salaries") -> the role they name, and the generic roles ("l'organisme",
    "l'autorité") that may stand for any other."""

    forms: dict[tuple[str, ...], str]
    generic: frozenset[str]

    @classmethod
    def read(cls, path: Path = ROLE_LEXICON) -> RoleLexicon:
        forms: dict[tuple[str, ...], str] = {}
        generic: set[str] = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            role, kind, surfaces = line.split("\t")
            if kind == "generic":
                generic.add(role)
            for surface in [role, *surfaces.split("|")]:
                if surface:
                    forms[tuple(surface.split())] = role
        return cls(forms, frozenset(generic))

    @property
    def longest(self) -> int:
        return max(map(len, self.forms), default=1)

    def atoms(self, words: list[str]) -> list[str]:
        """The words with each role mention (longest first) replaced by one atom, "@role"."""
        atoms, i = [], 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                role = self.forms.get(tuple(words[i : i + size]))
                if role is not None:
                    atoms.append("@" + role)
                    i += size
                    break
            else:
                atoms.append(words[i])
                i += 1
        return atoms

    def compatible(self, a: str, b: str) -> bool:
        """One role may stand for the other: a generic one, or one naming the other more
        broadly ("le tribunal" for "le tribunal judiciaire", "la caisse" for the Caf)."""
        if a in self.generic or b in self.generic:
            return True
        shorter, longer = sorted((a.split(), b.split()), key=len)
        return longer[: len(shorter)] == shorter


@lru_cache(maxsize=1)
def role_lexicon() -> RoleLexicon:
    return RoleLexicon.read()


def role_conflict(claim: str, span: str, lexicon: RoleLexicon | None = None) -> str | None:
    """The claim names a role the span does not, at the place where the span, aligned
    word for word with the claim, names another role the claim does not ("le procureur
    peut accorder" for "le juge peut accorder")."""
    lexicon = lexicon or role_lexicon()
    claim_atoms, span_atoms = lexicon.atoms(_tokens(claim)), lexicon.atoms(_tokens(span))
    matcher = SequenceMatcher(None, claim_atoms, span_atoms, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace" or max(i2 - i1, j2 - j1) > SWAP_MAX_WORDS:
            continue
        said = [a[1:] for a in claim_atoms[i1:i2] if a[0] == "@" and a not in span_atoms]
        written = [a[1:] for a in span_atoms[j1:j2] if a[0] == "@" and a not in claim_atoms]
        for wrong in said:
            right = next((r for r in written if not lexicon.compatible(wrong, r)), None)
            if right is not None:
                return f"Le passage cité parle de « {right} », pas de « {wrong} »."
    return None


# -- deriving the role lexicon from the fiches ----------------------------------------

# "auprès de la X", "s'adresser à la X": X is an office or a party.
_OFFICE_CONTEXT = re.compile(
    r"\b(?:aupres (?:du|des|de la|de l|de votre|de vos|de son|de sa|de ses|de leur|d un|d une)"
    r"|adresser (?:au|aux|a la|a l|a votre|a vos|a un|a une|a son|a sa)) ([a-z][a-z-]+)"
)
# What only a person or an office does: "délivré par le X", "le X verse", "le X peut saisir".
_AGENT_VERBS = (r"demander|saisir|verser|informer|payer|adresser|envoyer|signer|contester|refuser|accepter"
                r"|remettre|declarer|rembourser|notifier|transmettre|delivrer|accorder|prononcer|decider"
                r"|exiger|proposer|licencier|vendre|louer|reclamer|convoquer|statuer")
_AGENT_CONTEXT = re.compile(
    r"\b(?:delivre|verse|signe|prononce|notifie|designe|rembourse|paye|instruit|examine|envoye|accorde)e?s?"
    r" par (?:le|la|l|les|votre|un|une|son|sa) ([a-z][a-z-]+)"
    r"|(?:^|[.;:] )(?:le|la|l|les|votre|vos|son|sa) ([a-z][a-z-]+) (?:(?:doit|doivent|peut|peuvent)"
    rf" (?:vous |lui |leur |en |le |la |les |l )?(?:{_AGENT_VERBS})|delivre|verse|versent|informe|notifie"
    r"|transmet|envoie|remet|accorde|refuse|statue|convoque|instruit|prononce|paie|rembourse|signe)\b",
    re.MULTILINE,
)
# Adjectival endings of a role's qualifier ("médecin traitant", "tribunal administratif").
ADJECTIVE_SUFFIXES = ("al", "ale", "aire", "ique", "if", "ive", "el", "elle", "ien", "ienne", "ant",
                      "ante", "eux", "euse", "ier", "iere", "ais", "aise", "ain", "aine", "ial", "iel")
# The qualifiers of a generic reference: "l'autorité compétente", "l'organisme dont vous
# dépendez".
_GENERIC_USE = r" (?:competente?s?|dont vous (?:dependez|relevez)|qui vous (?:verse|emploie))\b"
MIN_OFFICE_CONTEXTS = 8  # uses of a noun in office contexts to make it a role
MIN_AGENT_CONTEXTS = 8  # uses of a noun as the agent of what only a person or office does
MIN_COMPOUND = 10  # uses of "role + qualifier" to make it a role of its own
GENERIC_SHARE = 0.02  # share of a role's uses that are generic references


def derive_roles(fiches: Iterable) -> dict[str, tuple[str, set[str]]]:
    """role -> ("specific" or "generic", its other surface forms), from ingest Fiches:
    nouns in office contexts or agents of what only a person or an office does, the offices of "Où s'adresser",
    the glossary's and acronyms' names headed by a role, and frequent qualified roles."""
    fiches = list(fiches)
    texts = [_folded(f.markdown) for f in fiches]
    office, agent = Counter(), Counter()
    for text in texts:
        office.update(_OFFICE_CONTEXT.findall(text))
        agent.update(by or subject for by, subject in _AGENT_CONTEXT.findall(text))
    heads = {w for w, n in office.items() if n >= MIN_OFFICE_CONTEXTS}
    heads |= {w for w, n in agent.items() if n >= MIN_AGENT_CONTEXTS}
    heads = {w for w in heads if w not in FOLDED_STOPWORDS and len(w) > 2}
    roles: dict[str, set[str]] = {h: {_plural(h)} for h in heads}
    for name, acronym in sorted(set(_office_names(fiches))):
        if name.split()[0] in heads or (acronym and acronym in heads):
            roles.setdefault(name, set()).update([acronym] if acronym else [])
            roles.pop(acronym, None)
    roles.update({c: set() for c in _qualified_roles(texts, heads) if c not in roles})
    generic = _generic_heads(texts, heads)
    return {role: ("generic" if role in generic else "specific", forms) for role, forms in sorted(roles.items())}




def _plural(word: str) -> str:
    return word if word.endswith(("s", "x", "z")) else word + "s"


def _office_names(fiches: list) -> Iterable[tuple[str, str]]:
    """(folded name, folded acronym or "") of the offices of "Où s'adresser", the
    glossary's terms and the acronyms' expansions."""
    for fiche in fiches:
        labels = [link.label for link in fiche.where_to_go] + list(fiche.glossary)
        for label in labels:
            named, _, rest = label.split(" - ")[0].partition("(")
            acronym = re.match(r"([A-Za-z][A-Za-z-]{2,})\)", rest)
            for i, part in enumerate(re.split(r" ou |, ", named)):
                name = " ".join(_tokens(part))
                if 2 <= len(name.split()) <= 7:
                    yield name, fold(acronym.group(1)) if acronym and i == 0 else ""
        for acronym, expansion in fiche.acronyms.items():
            if len(acronym) >= 3:
                yield " ".join(_tokens(expansion)), fold(acronym)


def _qualified_roles(texts: list[str], heads: set[str]) -> set[str]:
    """Frequent "role + adjective" and "role + de/du/des + noun" ("médecin du travail")."""
    pattern = re.compile(
        rf"\b({'|'.join(sorted(map(re.escape, heads)))}) ((?:de la |de l |du |des |de |d )?[a-z]+)\b"
    )
    counts = Counter()
    for text in texts:
        counts.update(f"{head} {rest}" for head, rest in pattern.findall(text))
    qualified = set()
    for phrase, n in counts.items():
        last = phrase.split()[-1]
        prepositional = len(phrase.split()) > 2
        if n >= MIN_COMPOUND and last not in FOLDED_STOPWORDS and len(last) > 2 and (
                prepositional or last.endswith(ADJECTIVE_SUFFIXES)):
            qualified.add(phrase)
    return qualified


def _generic_heads(texts: list[str], heads: set[str]) -> set[str]:
    """The heads whose uses are generic references often enough ("l'organisme compétent")."""
    uses, generic = Counter(), Counter()
    for text in texts:
        uses.update(_TOKEN.findall(text))
        generic.update(re.findall(rf"\b([a-z][a-z-]+){_GENERIC_USE}", text))
    share = {h: (generic[h] + generic[_plural(h)]) / (uses[h] + uses[_plural(h)] or 1) for h in heads}
    return {h for h in heads if share[h] >= GENERIC_SHARE}


def write_roles(roles: dict[str, tuple[str, set[str]]], source: str, out) -> None:
    out.write(
        "# Offices, authorities, parties and professions of the fiches: role, tab, specific or\n"
        "# generic (may stand for any role), tab, other forms (plural, acronym) separated by |.\n"
        f"# Derived by generation.consistency.derive_roles from {source}; regenerate with\n"
        "#   python -m generation.consistency <fiches folder or source> > generation/data/roles.tsv\n"
    )
    for role, (kind, forms) in roles.items():
        out.write(f"{role}\t{kind}\t{'|'.join(sorted(forms - {role}))}\n")


def main(argv: list[str]) -> None:
    from ingest.settings import IngestSettings
    from ingest.sources import open_source

    source = argv[0] if argv else "data/sample"
    items = open_source(source, IngestSettings(parse_workers=1)).fiches()
    fiches = [f for f in items if hasattr(f, "markdown")]
    write_roles(derive_roles(fiches), Path(source).name, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
