"""Extractive drafts that answer first: the passages' own sentences, each cited.

No LLM. For each question (a `Need`: the question and the citizen's situation), the
candidate sentences of the passages retrieved for it are scored with BM25 against the
question and its situation, plus the rank of their passage, plus what the question's
kind asks for (a duration for "combien de temps", an amount for "combien", an office for
"où / à qui", the rule for "puis-je / dois-je", the steps for "comment"), plus or minus
the fit of its case to the situation; a question that asks several facts ("Comment je
l'obtiens et ça prend combien de temps ?") gets a sentence stating each. A sentence's
case is read from the headings above it, the chunk's breadcrumb then the chunk's own
headings ("##### Cas : État des lieux conforme"); the draft service adds the other cases
of the best passage's section (generation.service), so the case the citizen's words pick
opens, and the same sentence with other figures under another case is said too, with its
condition. The best one opens the paragraph; a few more (conditions, exceptions) follow
without repeating it, and the paragraph ends with where to read more. A sentence that
depends on the one before it ("Ce montant…", "Passé ce délai…", "Vous pouvez alors…")
comes with it or not at all; the case of a passage becomes a French condition ("Si vous
êtes salarié, …"), never a breadcrumb; first-person guide text ("Je m'informe…"),
question headings, list items without a clause and table titles are never taken, and
"Oui, …" / "Non, …" only opens a paragraph. List introductions carry their items, table
rows their column headers. Every sentence ends with its [n].
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from generation.base import Drafter
from generation.format import QUESTION_INTRO, READ_MORE, READ_MORE_BY_SOURCE, french_date
from generation.reading import FACT_KINDS, citizen_age, lives_abroad, question_kinds
from generation.settings import GenerationSettings
from generation.text import collapse_spaces, content_tokens, fold, jaccard, split_paragraph, split_sentences
from generation.types import Need
from ingest.model import FICHE_ID
from retrieval.search.situation import missed_axes, situation_of_need
from retrieval.types import Passage

_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}")
_MIN_TOKENS = 3
_MAX_LIST_ITEMS = 6


@dataclass
class Candidate:
    number: int  # the passage's [n]
    position: int  # order inside the passage
    text: str  # clean sentence, without the trailing citation
    tokens: list[str]
    anaphoric: bool = False  # means nothing without the candidate before it
    unanchored: bool = False  # anaphoric with nothing before it in the passage to lean on
    path: tuple[str, ...] = ()  # the headings above it: the chunk's breadcrumb, then the chunk's own
    listing: bool = False  # a lead-in with its list items ("… les opérations suivantes : A ; B ; C")
    # inside a fiche's "> **Exemple** : …" or "> **Avertissement** : …" callout: it
    # illustrates a rule or announces a change of the law; it does not state the rule
    aside: bool = False
    situation: str = ""  # the fiche's Situation its passage is under (Chunk.situation)

    @property
    def cases(self) -> list[str]:
        """The labels of its path that name a case or a situation (see labels_of_cases)."""
        return labels_of_cases(self.path)

    @property
    def conditions(self) -> list[str]:
        """Its cases and the fiche's Situation it is under, whatever its words ("Logement
        meublé"): what a sentence of it is said under. Only said: scored as cases (and
        their other Situations brought beside them), the Situations cost the PIAF drafts
        3 answer spans of 105 and the development e-mails none (README, "E-mails")."""
        return labels_of_cases(self.path, self.situation)


# Lines that name an online service or a form: links for the agent, not sentences of a reply.
_SERVICE_LINE = re.compile(
    r"^(?:téléservice|teleservice|formulaire|simulateur|modèle de document|modele de document|où s'adresser"
    r"|ou s'adresser|service en ligne|pour en savoir plus|et aussi|voir aussi|cerfa)\b", re.I
)
# A branch of a guided search ("Pour un enfant mineur > Renouvellement > … → Renouvellement
# du passeport d'un mineur (F21092)"): it routes to a fiche, it says nothing itself.
_ROUTE_LINE = re.compile(r"→\s*.+\((?P<target>[^()]+)\)\.?$")
# Callout labels of the fiches: the content stays, the label goes.
_ASIDE_CALLOUT = re.compile(r"^\s*>\s*(?:\*\*)?\s*(?:exemples?|par exemple|avertissement)\b", re.I)
_CALLOUT = re.compile(r"^(?:à savoir|a savoir|à noter|a noter|attention|important|rappel|exemple)\s*:\s*", re.I)
# Guide fiches ("Je…" steps) speak in the citizen's first person: not a reply's voice.
# A guide's "je…" ("À partir de mon espace, je demande…"): the fiches speak to "vous".
_FIRST_PERSON = re.compile(r"^(?:mon|ma|mes)\b|(?<![\w-])(?:je(?![\w-])|j['’])", re.I)
# Openers that point back to the sentence before: "Ce montant", "Passé ce délai", "Il"…
_ANAPHORA = re.compile(
    r"^(?:ce|cet|cette|ces|celui-ci|celle-ci|ceux-ci|cela|ceci|il|elle|ils|elles|passé ce|dans ce cas"
    r"|dans les 2 cas|dans les deux cas|de même|en revanche|sinon|à défaut|a défaut|là|y compris"
    r"|cependant|toutefois|par contre|pour cela|pour en|pour y|à cette|a cette|au-delà|au delà|en effet|ainsi|donc"
    r"|si ce n'est pas le cas|si tel n'est pas le cas|si ce n’est pas le cas|dans le cas contraire"
    r"|leur|leurs|son|sa|ses|celui|celle|ceux|celles|les 2|les deux|l'autre|même|et|mais|or|puis)\b",
    re.I,
)


# "Pour éviter ces difficultés, …", "Vous pouvez alors …": a demonstrative or "alors"
# among the first words points back too.
_EARLY_DEMONSTRATIVE = re.compile(r"^(?:[\w'’-]+[\s,]+){1,4}(?:ce|cet|cette|ces)\s+[\w-]+"
                                  r"|^(?:[\w'’-]+[\s,]+){1,3}alors\b(?!\s+que)"
                                  # "Vous pouvez néanmoins demander une dispense": despite the one before
                                  r"|^(?:[\w'’-]+[\s,]+){1,3}(?:néanmoins|toutefois|cependant|pourtant|en revanche"
                                  r"|par contre|quand même"
                                  # "Vous pouvez également percevoir la réversion de l'Agirc-Arrco": besides the one before
                                  r"|également|aussi)\b", re.I)


# A sentence that announces what comes after it ("Vous devez remplir toutes les conditions
# suivantes.", then headings): without its items it says nothing. A lead-in ending with
# ":" carries its items and is not one; "le mois suivant" is a time, not an announcement.
_ANNOUNCEMENT = re.compile(r"\b(?:suivant(?:e?s)|ci-dessous|ci-après|ci-apres)\b"
                           r"|\b(?:condition|situation|règle|pièce|démarche|manière|façon|procédure) suivante\b", re.I)


# A list item that says something on its own has a subject or a verb of the fiches' usual
# kinds; one without ("Justificatif de domicile de moins de 3 mois") names an item of a list.
_CLAUSE = re.compile(r"\b(?:vous|il|elle|ils|elles|on|est|sont|doit|doivent|peut|peuvent|a|ont|faut|fait|font"
                     r"|permet|permettent|sera|seront|reste|restent|dépend|dépendent|s'applique)\b", re.I)


# "De plus, vous pourrez être indemnisé si…": the connector adds to the sentence before;
# what follows it stands alone, and a reply says it without the connector.
# With its comma only: "En plus de l'allocation, vous…" keeps its words.
_ADDITIVE_OPENER = re.compile(r"^(?:de plus|en plus|en outre|par ailleurs|en parallèle|parallèlement)\s*,\s*", re.I)


def clean_markdown(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\((?:[^)]+)\)", r"\1", text)  # [label](url) -> label
    text = re.sub(r"\*\*|__", "", text)
    text = re.sub(r"^\s*>\s*", "", text)
    text = _LIST_ITEM.sub("", text)
    text = _ADDITIVE_OPENER.sub("", _CALLOUT.sub("", collapse_spaces(text)))
    return text[:1].upper() + text[1:] if text else text


def passage_body(passage: Passage) -> str:
    """The passage text without its first line when that line is the breadcrumb."""
    first, _, rest = passage.text.partition("\n")
    title = passage.chunk.title
    if rest and (first.startswith(title) or " > " in first):
        return rest
    return passage.text


def _table_row(cells_line: str) -> list[str]:
    return [collapse_spaces(c) for c in cells_line.strip().strip("|").split("|")]


def candidates_of(passage: Passage, number: int) -> list[Candidate]:
    """Citable units of a passage: sentences, list intros with their items, table rows."""
    body = passage_body(passage)
    spans = split_sentences(body)
    units = [s.text for s in spans]
    # A callout's line ("> L'ordonnance … prévoit… Le locataire devra libérer les lieux…")
    # is quoted in all its sentences, not only in the first.
    quoted_lines = [body[body.rfind("\n", 0, s.start) + 1:s.start + 1].lstrip().startswith(">") for s in spans]
    candidates: list[Candidate] = []
    header: list[str] | None = None
    previous_unit: Candidate | None = None
    breadcrumb = list(passage.chunk.breadcrumb)
    path = breadcrumb
    inner: list[tuple[int, str]] = []  # the chunk's own headings above the unit: (level, label)
    i = 0
    in_aside = False
    while i < len(units):
        unit, quoted = units[i], quoted_lines[i]
        i += 1
        # An "Exemple" callout runs over its quoted lines ("> - jusqu'au 5 décembre…").
        in_aside = quoted and (in_aside or bool(_ASIDE_CALLOUT.match(unit)))
        if heading := _HEADING.match(unit):
            # "##### Cas : État des lieux conforme" inside the chunk: a heading of level L
            # is the L-th label of the fiche's path (the title is the 0th), and replaces
            # the chunk's headings of its level or below ("##### Cas : Vous avez plus de 75
            # ans", then "##### Cas : Autres cas", under a breadcrumb of two labels).
            level = heading.group(0).count("#")
            inner = [(lvl, label) for lvl, label in inner if lvl < level] + [(level, collapse_spaces(unit[heading.end():]))]
            path = breadcrumb[: inner[0][0]] + [label for _, label in inner]
            previous_unit = None
            continue
        if _TABLE_SEPARATOR.match(unit):
            previous_unit = None
            continue
        listing = False
        if unit.lstrip().startswith("|"):
            cells = _table_row(unit)
            if i < len(units) and _TABLE_SEPARATOR.match(units[i]):
                header = cells
                continue
            texts = row_sentences(header, cells)
        else:
            header = None
            text = clean_markdown(unit)
            if text.endswith(":"):
                items = []
                while i < len(units) and _LIST_ITEM.match(units[i]):
                    if len(items) < _MAX_LIST_ITEMS:  # the rest of a long list is left out, not split off
                        items.append(_item_after_colon(clean_markdown(units[i]).rstrip(".;,")))
                    i += 1
                if not items:
                    continue
                text = f"{text} {' ; '.join(items)}"
                listing = True
            elif _ANNOUNCEMENT.search(text):
                previous_unit = None
                continue  # "… les conditions suivantes." whose items are headings below: says nothing alone
            elif not _LIST_ITEM.match(unit) and not re.search(r"[.!?…»)]$", text) and (
                    len(text.split()) < 10 or (i < len(units) and units[i].lstrip().startswith("|"))):
                previous_unit = None
                continue  # a caption, a label ("Plafond de ressources") or a table's title: not a sentence
            elif _LIST_ITEM.match(unit) and (re.search(r"[,;]$", text) or not _CLAUSE.search(text)):
                previous_unit = None
                continue  # an item of a list whose lead-in is elsewhere ("Actes de naissance de vos enfants"): a fragment
            texts = [text]
        for text in texts:
            if text.endswith("?") or _FIRST_PERSON.search(text) or _SERVICE_LINE.match(text) or _is_route(text):
                previous_unit = None
                continue  # a question heading of a Q-R fiche, a guide's "je…", a guided search's route: not an answer
            tokens = content_tokens(text)
            if len(tokens) >= _MIN_TOKENS:
                anaphoric = bool(_ANAPHORA.match(text) or _EARLY_DEMONSTRATIVE.match(text))
                # Its antecedent is in another passage, or is itself unanchored: it cannot be cited.
                unanchored = anaphoric and (not candidates or candidates[-1].unanchored)
                candidates.append(Candidate(number, len(candidates), text, tokens, anaphoric, unanchored, tuple(path),
                                            listing, in_aside, passage.chunk.situation))
                previous_unit = candidates[-1]
            elif previous_unit is not None and tokens:
                # "Elle est gratuite." only makes sense after the sentence it follows.
                previous_unit.text = f"{previous_unit.text} {text}"
                previous_unit.tokens = previous_unit.tokens + tokens
    return candidates


def _is_route(text: str) -> bool:
    route = _ROUTE_LINE.search(text)
    return bool(route and FICHE_ID.match(route.group("target")))


def table_row_sentence(header: list[str], cells: list[str]) -> str:
    """A table row as a sentence: with two columns, the second column's heading, the row's
    case in brackets and its value ("Délai pour échanger le permis (titulaire d'une 1re
    carte de séjour) : moins d'1 an …"); otherwise each heading with its cell."""
    if len(header) == 2 and len(cells) == 2 and all(header) and all(cells):
        case, value = cells
        return f"{header[1]} ({_lower_first(case)}) : {_lower_first(value)}"
    return " ; ".join(f"{h} : {c}" if h else c for h, c in zip(header, cells) if c)


def row_sentences(header: list[str] | None, cells: list[str]) -> list[str]:
    """A table row as citable sentences. A row whose cells hold one sentence each is one
    sentence (table_row_sentence); a cell of several sentences gives one sentence each,
    named by the row ("Société à responsabilité limitée (SARL) : aucun capital minimum"),
    so that no sentence of a draft is cut inside a cell. Headings that are questions
    ("Qui peut l'utiliser ?") lose their question mark. A table continued from the chunk
    before has lost its heading row: its rows are read by their first cell."""
    header = [h.rstrip(" ?") for h in header] if header else None
    pieces = [[p.text.rstrip(".") for p in split_paragraph(cell)] or [""] for cell in cells]
    if all(len(p) == 1 for p in pieces):
        cells = [cell.rstrip(".") for cell in cells]  # "… capitaux. ; Qui…" would end a sentence
        return [table_row_sentence(header, cells) if header else _headerless_row(cells)]
    label = cells[0]
    if header and len(cells) == 2 and all(header):
        label = f"{header[1]} ({_lower_first(cells[0])})"
    texts = []
    for column, sentences in enumerate(pieces[1:], 1):
        named = label
        if header and len(cells) > 2 and column < len(header) and header[column]:
            named = f"{label}, {_lower_first(header[column])}"
        texts += [f"{named} : {_lower_first(sentence)}" for sentence in sentences if sentence]
    return texts


def _headerless_row(cells: list[str]) -> str:
    cells = [c for c in cells if c]
    return f"{cells[0]} : {' ; '.join(cells[1:])}" if len(cells) > 1 else "".join(cells)


class _BM25:
    def __init__(self, documents: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.documents = documents
        self.k1, self.b = k1, b
        self.average = sum(len(d) for d in documents) / max(len(documents), 1) or 1.0
        frequency = Counter(t for d in documents for t in set(d))
        n = len(documents)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self.counts = [Counter(d) for d in documents]

    def score(self, query: list[str], index: int) -> float:
        counts, length = self.counts[index], len(self.documents[index])
        total = 0.0
        for term in set(query):
            tf = counts.get(term, 0)
            if tf:
                norm = tf + self.k1 * (1 - self.b + self.b * length / self.average)
                total += self.idf.get(term, 0.0) * tf * (self.k1 + 1) / norm
        return total


def with_citation(text: str, number: int) -> str:
    """Every sentence of `text` followed by [number], before its final punctuation."""
    return " ".join(_cite_sentence(span.text, number) for span in split_paragraph(text))


def _cite_sentence(text: str, number: int) -> str:
    match = re.search(r"[.!?…:;]+$", text)
    if match:
        end = "." if match.group(0) in (":", ";") else match.group(0)
        return f"{text[: match.start()].rstrip()} [{number}]{end}"
    return f"{text} [{number}]."


# --- what a question asks for, seen in a sentence ---------------------------------

# What answers each kind of question: the fact itself (strict), or words around it (loose).
_KIND_SIGNALS = {
    # "Acte de naissance de moins de 3 mois" is a document's age, not how long anything takes.
    "duration": (re.compile(r"(?<!de moins de )\b\d+\s*(?:jours?|mois|ans?|années?|semaines?|heures?)\b"
                            r"|\b\d{1,2}(?:er)?\s+(?:janvier"
                            r"|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b", re.I),
                 re.compile(r"\bdélai\b|\bdurée\b|\bau plus tard\b|\bavant le\b", re.I)),
    "amount": (re.compile(r"\d[\d\s,.]*\s*(?:€|euros?|%)|\bgratuite?s?\b|\bpayante?s?\b", re.I),
               re.compile(r"\bmontant\b|\bcoûte?\b|\btarif|\bprix\b", re.I)),
    "place": (re.compile(r"\b(?:mairie|préfecture|tribunal|notaire|caf|cpam|commissariat|gendarmerie|greffe"
                         r"|consulat|ambassade|urssaf|france travail|pôle emploi)\b", re.I),
              re.compile(r"\b(?:auprès d|service|en ligne|guichet|agence|centre|caisse|bureau|s'adresser)\b", re.I)),
    "permission": (re.compile(r"\b(?:vous pouvez|vous ne pouvez pas|vous devez|vous n'êtes pas obligé|il est interdit"
                              r"|n'est pas obligatoire|est obligatoire|a le droit|avez le droit|ne peut pas|ne doit pas"
                              r"|peut refuser|ne peut refuser"
                              # "les époux n'ont pas besoin de passer devant le juge", "… n'ont pas à"
                              r"|pas besoin de|pas obligée?s?|n'(?:ont|avez|a) pas à)\b|\bpas besoin d'", re.I),
                   re.compile(r"\b(?:il faut|peut|doit|à condition|si vous|sauf)\b", re.I)),
    # A step: an obligation to act ("vous devez fournir", "les partenaires doivent adresser"),
    # "… est à envoyer", or the fiches' imperative ("Envoyez le formulaire…").
    "procedure": (re.compile(r"\b(?:vous devez|il faut|doit|doivent)\b.{0,60}\b(?:demande|formulaire|adresser|fournir"
                             r"|déposer|envoyer|rendre|remplir|déclarer|saisir|contacter|joindre)\b"
                             r"|\b(?:est|sont) à (?:envoyer|adresser|déposer|remplir|fournir)\b"
                             r"|^(?:envoyez|adressez|déposez|remplissez|présentez|contactez|joignez|rendez-vous"
                             r"|connectez-vous)\b", re.I),
                  re.compile(r"\b(?:demande|démarche|formulaire|en ligne|téléservice|dossier)\b", re.I)),
}
_PERSON_NOUNS = set(
    """salarié salariée fonctionnaire contractuel contractuelle agent employeur étudiant étudiante
    demandeur demandeuse retraité retraitée locataire propriétaire bailleur parent parents mineur
    majeur travailleur indépendant auto-entrepreneur micro-entrepreneur artisan commerçant agriculteur
    stagiaire apprenti apprentie militaire élève particulier professionnel association ressortissant
    français française étranger étrangère européen européenne""".split()
)
_CONDITION_OPENERS = re.compile(
    r"^(?:si|pour|en|dans|lorsque|quand|avant|après|à|au|aux|sur|par|sans|avec|depuis|pendant|entre|hors)\b", re.I
)


_CASE_PREFIX = re.compile(r"^cas\s*:\s*", re.I)
_PLACE_LABEL_WORDS = 5
# "(ex : commerce d'ameublement ou de bricolage, fleuriste...)": the label's examples, not its condition
_LABEL_EXAMPLES = re.compile(r"\s*\((?:ex|exemples?|par exemple)\b[^()]*\)", re.I)


def condition_phrase(label: str) -> str:
    """A case of a fiche as a French condition opening a sentence ("" if not a case):
    "Vous vivez seul" -> "Si vous vivez seul, "; "Salarié" -> "Si vous êtes salarié, "."""
    label = _LABEL_EXAMPLES.sub("", _CASE_PREFIX.sub("", label.strip())).rstrip(" .:")
    # "Cas général (Caf)" is the default case, whatever follows it: nothing to state; a
    # heading that asks ("Quand faire le 1er contrôle ?") is a question, not a case.
    if not label or label.endswith("?") or re.match(r"(?:cas general|general|autres? (?:cas|situations?))\b",
                                                      fold(label)):
        return ""
    first = label.split()[0].lower().strip(",")
    if first in {"vous", "votre", "vos"}:
        return f"Si {label[0].lower()}{label[1:]}, "
    if _CONDITION_OPENERS.match(label):
        return f"{label}, "
    if first in _PERSON_NOUNS and len(label.split()) <= 6:
        return f"Si vous êtes {label[0].lower()}{label[1:]}, "
    return f"Dans le cas « {label} », "


def is_case_heading(label: str) -> bool:
    """A label of the fiches' "Cas : …" / "Cas général" form: one case of a section
    among several."""
    return bool(re.match(r"cas\b", label, re.I))


def is_situation_label(label: str) -> bool:
    """A label that names a case or a situation ("Cas : …", "Vous vivez en France",
    "Salarié", a place: "Naissance à l'étranger"), not a chapter ("Pièces à fournir")."""
    return _names_a_case(label) or _place_label(_CASE_PREFIX.sub("", label))


def _names_a_case(label: str) -> bool:
    """"Cas : …", a situation told to the reader ("Vous vivez en France", "Si …") or a
    person ("Salarié")."""
    stripped = _CASE_PREFIX.sub("", label)
    first = stripped.split()[0].lower().strip(",") if stripped.split() else ""
    return label.lower().startswith("cas") or first in {"vous", "votre", "vos", "si", "lorsque", "quand"} \
        or first in _PERSON_NOUNS


def is_abroad_label(label: str) -> bool:
    """A heading about abroad: "Vous vivez à l'étranger", "Naissance à l'étranger"."""
    return bool(_ABROAD_PLACE.search(label))


def _in_france(label: str) -> bool:
    """A place heading for France ("Demande en France", "Né(e) en France"): the case of
    the citizen who does not live abroad (the drafter lowers it for one who does), not a
    condition worth stating."""
    return _place_label(label) and not is_abroad_label(label) and not _names_a_case(label)


def _place_label(label: str) -> bool:
    """A short heading that says where ("Naissance en France", "Demande à l'étranger"):
    one of the places a fiche's section is told for."""
    return len(label.split()) <= _PLACE_LABEL_WORDS and (is_abroad_label(label) or bool(_FRANCE_PLACE.search(label)))


def labels_of_cases(path, situation: str = "") -> list[str]:
    """The labels of a path (title first) that name a case or a situation (not chapters);
    `situation`: the fiche's Situation the path is under (its first label, a profile
    whatever its words: "Logement meublé", "Territoriale (FPT)")."""
    return [label for index, label in enumerate(list(path)[1:], 1)
            if is_situation_label(label) or (index == 1 and situation and label == situation)]


# How much each signal of a sentence weighs in its score (ExtractiveDrafter._scored; each
# signal about 0..1, or a fit that is negative when the sentence is for another case).
SENTENCE_WEIGHTS: dict[str, float] = {
    "words": 2.0,  # the need's words in the sentence (BM25 among the candidates, situation ×0.4)
    "passage_words": 0.5,  # … in its passage
    "passage_rank": 1.0,  # the retriever's order of passages
    "states_ask": 0.8,  # states what the question asks for: the duration, the amount…
    "hints_ask": 0.3,
    "case_fit": 1.0,
    "age_fit": 1.0,
    "residence_fit": 1.0,
    "situation_misfits": -1.0,  # for each axis on which the passage's fiche is for another situation
    "anaphoric": -0.3,
    "illustrates": -1.0,  # an example illustrates the rule, a notice announces a change: neither states it
    "long": -1.0,
    "listing": -0.5,  # its many words match any need; it answers "which documents, which steps"
    # "Oui, …" / "Non, …": a Q-R fiche's answer to a can-I / must-I question
    "yes_no": 1.0,
}


class ExtractiveDrafter(Drafter):
    """Default drafter: no LLM, instant, every sentence taken from a cited passage."""

    def __init__(self, settings: GenerationSettings | None = None, weights: dict[str, float] | None = None):
        self.settings = settings or GenerationSettings()
        self.weights = {**SENTENCE_WEIGHTS, **(weights or {})}

    def write_body(
        self,
        questions: list[str],
        passages: list[Passage],
        message: str | None = None,
        *,
        needs: list[Need] | None = None,
        groups: list[list[int]] | None = None,
    ) -> str:
        """`needs`: each question with its situation (else the questions alone);
        `groups`: for each question, the numbers of the passages retrieved for it, best
        first (else every passage, in order)."""
        return "\n\n".join(p for p in self.write_paragraphs(questions, passages, needs=needs, groups=groups) if p)

    def write_paragraphs(
        self,
        questions: list[str],
        passages: list[Passage],
        *,
        needs: list[Need] | None = None,
        groups: list[list[int]] | None = None,
        introduce: bool | None = None,
        expansions: list[str] | None = None,
    ) -> list[str]:
        """One paragraph per question ("" when its passages say nothing citable about
        it); `introduce`: open each with "Concernant « … » :" (default: several
        questions); `expansions`: for each question, the fiches' words the search added
        to the citizen's ("dépôt de garantie" for "caution"), scored like the question's."""
        needs = needs or [Need(question=q) for q in questions]
        groups = groups or [list(range(1, len(passages) + 1)) for _ in needs]
        introduce = len(needs) > 1 if introduce is None else introduce
        pool = _pool_of(passages)
        cases_of_text = _cases_of_text(pool)
        used: set[tuple[int, int]] = set()
        paragraphs, topics = [], []
        expansions = expansions or [""] * len(needs)
        for need, group, expansion in zip(needs, groups, expansions):
            chosen = self.select(need, group, pool, passages, used, expansion) if any(pool.values()) else []
            if not chosen:
                paragraphs.append("")
                continue
            # The same sentence under another passage (a section repeated per case) is used too.
            said = {c.text for c in chosen}
            used.update((c.number, c.position) for candidates in pool.values() for c in candidates if c.text in said)
            text = " ".join(self._render(chosen, passages, cases_of_text))
            # On a line of its own: a title may hold a "?" that would split the sentence.
            text += "\n" + self._read_more(passages[chosen[0].number - 1], chosen[0].number)
            if introduce:
                topic = self._topic(passages[chosen[0].number - 1], topics)
                topics.append(topic)
                text = f"{QUESTION_INTRO.format(topic=topic)}\n{text}"
            paragraphs.append(text)
        return paragraphs

    @staticmethod
    def _topic(passage: Passage, taken: list[str]) -> str:
        """The fiche's title; with the section when another paragraph has that title."""
        title = passage.chunk.title
        if title in taken and len(passage.chunk.breadcrumb) > 1:
            return f"{title} — {passage.chunk.breadcrumb[-1]}"
        return title

    @staticmethod
    def _read_more(passage: Passage, number: int) -> str:
        date = french_date(passage.chunk.date)
        template = READ_MORE_BY_SOURCE.get(passage.chunk.source, READ_MORE)
        return template.format(title=passage.chunk.title, updated=f" (mise à jour le {date})" if date else "",
                                number=number)

    @staticmethod
    def _render(chosen: list[Candidate], passages: list[Passage], cases_of_text: dict[str, set[str]]) -> list[str]:
        """Cited sentences; the first one taken from a case of a fiche says which case,
        as a condition ("Si vous êtes salarié, …"), unless the same sentence stands under
        _SAID_UNDER_EVERY_CASE cases or more (the fiche's FPE, FPT and FPH sections repeat
        their common rules); under two, it is its case's rule ("4 ans de mariage" holds in
        France and for some who live abroad, not for all). `cases_of_text`: _cases_of_text
        of the passages' candidates."""
        sentences, introduced = [], set()
        for candidate in chosen:
            text = candidate.text
            labels = candidate.conditions
            condition = condition_phrase(labels[-1]) if labels and not _in_france(labels[-1]) else ""
            if condition and len(cases_of_text.get(text, ())) >= _SAID_UNDER_EVERY_CASE:
                condition = ""
            key = (candidate.number, condition)
            if condition and key not in introduced and not candidate.anaphoric \
                    and not _mentions(text, labels[-1]):
                if condition.startswith("Si ") and re.match(r"(?:si|s'il|s'ils)\b", text, re.I):
                    # "Si vous êtes français et si vous avez droit à l'aide…", not "…, si vous…"
                    text = f"{condition.rstrip(', ')} et {_lower_first(text)}"
                else:
                    text = f"{condition}{_lower_first(text)}"
                introduced.add(key)
            sentences.append(with_citation(text, candidate.number))
        return sentences

    def select(self, need: Need, group: list[int], pool: dict[int, list[Candidate]], passages: list[Passage],
               used: set[tuple[int, int]], expansion: str = "") -> list[Candidate]:
        """The answer first, then up to sentences_per_question - 1 more, in passage order."""
        kinds = question_kinds(need.question)
        scored = self._scored(need, group, pool, passages, kinds, expansion)
        scored = [(score, c) for score, c, overlap in scored if (c.number, c.position) not in used and overlap]
        if not scored:
            return []  # no sentence shares a word with the question or its situation
        chains = ((score, c, self._with_antecedent(c, pool, used)) for score, c in scored)
        best, answer, chosen = next(((sc, c, chain) for sc, c, chain in chains if chain), (0.0, None, []))
        if answer is None:
            return []
        opening = list(chosen)  # the answer and what it leans on
        best = best or 1.0
        lam = self.settings.mmr_lambda
        fiche = passages[answer.number - 1].fiche_id
        # The paragraph stays in the answer's fiche unless another one is nearly as relevant.
        rest = [(score / best, c) for score, c in scored if c is not answer
                if passages[c.number - 1].fiche_id == fiche or score / best >= _OTHER_FICHE_RELEVANCE]
        remaining = list(rest)  # the MMR loop below consumes `rest`
        while rest and len(chosen) < self.settings.sentences_per_question:
            def mmr(item):
                relevance, candidate = item
                redundancy = max(jaccard(candidate.tokens, c.tokens) for c in chosen)
                return lam * relevance - (1 - lam) * redundancy

            relevance, pick = max(rest, key=mmr)
            rest.remove((relevance, pick))
            if relevance < 0.35:
                break
            if pick in chosen or any(jaccard(pick.tokens, c.tokens) >= _NEAR_DUPLICATE
                                     and not _another_case(pick, c, passages) for c in chosen):
                continue
            if _YES_NO.match(pick.text):
                continue  # "Oui, …" / "Non, …" answers its fiche's question: only as the opening answer
            if _illustrates(pick):
                continue  # an example without the rule it illustrates confuses the citizen
            chain = _one_yes_no(self._with_antecedent(pick, pool, used), chosen)
            if chain and len(chosen) + len([c for c in chain if c not in chosen]) <= self.settings.sentences_per_question + 1:
                chosen.extend(c for c in chain if c not in chosen)
        # A fact asked that the answer's fiche does not state may come from the question's
        # other fiches ("1 mois" for "combien de temps de préavis ?" after the rule's fiche).
        elsewhere = [(score / best, c) for score, c in scored if c is not answer and passages[c.number - 1].fiche_id != fiche
                     and _OTHER_FICHE_ASK_RELEVANCE <= score / best < _OTHER_FICHE_RELEVANCE]
        chosen += self._other_asks(kinds, chosen, remaining, pool, used, elsewhere)
        # The answer (with what it leans on) opens, then the rest of its passage, then the
        # other passages, each in its own order.
        others = sorted((c for c in chosen if c not in opening),
                        key=lambda c: (c.number != answer.number, c.number, c.position))
        return opening + others

    def _other_asks(self, kinds: list[str], chosen: list[Candidate], rest: list[tuple[float, Candidate]],
                    pool: dict[int, list[Candidate]], used: set[tuple[int, int]],
                    elsewhere: list[tuple[float, Candidate]] = ()) -> list[Candidate]:
        """For each fact the question asks for (`kinds`: its main kind and its other
        clauses', "… et ça prend combien de temps ?"), the best remaining sentence (`rest`:
        relevance, candidate, best first) that states it (a duration or date, an amount, an
        office, a step) when the chosen ones do not: one sentence more per such ask."""
        added: list[Candidate] = []
        for kind in kinds:
            if kind not in FACT_KINDS:
                continue
            states = _KIND_SIGNALS[kind][0]
            if any(states.search(c.text) for c in chosen + added):
                continue
            for relevance, pick in [*rest, *elsewhere]:
                if relevance < _OTHER_ASK_RELEVANCE:
                    continue
                if pick in chosen or pick in added or not states.search(pick.text) or _YES_NO.match(pick.text) \
                        or _illustrates(pick) \
                        or any(jaccard(pick.tokens, c.tokens) >= _NEAR_DUPLICATE for c in chosen + added):
                    continue
                if chain := _one_yes_no(self._with_antecedent(pick, pool, used), chosen + added):
                    added += [c for c in chain if c not in chosen and c not in added]
                    break
        return added

    @staticmethod
    def _with_antecedent(candidate: Candidate, pool: dict[int, list[Candidate]],
                         used: set[tuple[int, int]]) -> list[Candidate]:
        """The candidate, preceded by the sentences it points back to ("Ce…", "Il…", "En
        effet…"), up to the first one that stands alone; [] when that chain is too long,
        or when another paragraph said a sentence of it (`used`): it would be said twice."""
        if (named := _named_antecedent(candidate, pool[candidate.number])) is not None:
            chain = [named, candidate]
        else:
            chain = [candidate]
            while chain[0].anaphoric and chain[0].position > 0:
                if len(chain) > _MAX_ANTECEDENTS:
                    return []
                chain.insert(0, pool[candidate.number][chain[0].position - 1])
        return [] if any((c.number, c.position) in used for c in chain) else chain

    def answering_fiche(self, need: Need, passages: list[Passage], expansion: str = "") -> str | None:
        """The fiche of the passages' sentence that best answers the need (the one a
        draft would open with), if any sentence can be quoted."""
        pool = _pool_of(passages)
        scored = self._scored(need, list(pool), pool, passages, question_kinds(need.question), expansion)
        return passages[scored[0][1].number - 1].fiche_id if scored else None

    def _scored(self, need: Need, group: list[int], pool, passages, kinds: list[str],
                expansion: str = "") -> list[tuple[float, Candidate, bool]]:
        """(score, candidate, shares a word with the need or states a fact it asks for),
        best first, the score weighing its signals by `self.weights`."""
        scored = [(sum(self.weights[name] * value for name, value in signals.items()), candidate, relevant)
                  for candidate, signals, relevant in sentence_signals(need, group, pool, passages, kinds, expansion)]
        scored.sort(key=lambda item: (-item[0], item[1].number, item[1].position))
        return scored


def sentence_signals(need: Need, group: list[int], pool, passages, kinds: list[str],
                     expansion: str = "") -> list[tuple[Candidate, dict[str, float], bool]]:
    """Each candidate sentence of a need's passages with its signals (SENTENCE_WEIGHTS
    names them) and whether it shares a word with the need or states a fact it asks
    for; `kinds`: question_kinds of the need's question."""
    candidates = [c for number in group for c in pool.get(number, []) if not c.unanchored]
    if not candidates:
        return []
    question = content_tokens(need.question) + content_tokens(expansion)
    situation = [t for s in need.situation for t in content_tokens(s)]
    index = _BM25([c.tokens for c in candidates])
    passage_index = _BM25([content_tokens(passages[n - 1].text) for n in group])
    passage_scores = {n: passage_index.score(question + situation, i) for i, n in enumerate(group)}
    top_passage = max(passage_scores.values()) or 1.0
    negated = negated_words(" ".join([need.question, *need.situation]))
    situation_words = (set(question) | set(situation)) - negated
    strict, loose = _KIND_SIGNALS.get(kinds[0], (None, None))
    # A sentence that states a fact asked for ("dans un délai de 2 semaines" for "ça prend
    # combien de temps ?") may share no word with the question: it still answers it.
    asked = [_KIND_SIGNALS[kind][0] for kind in kinds if kind in FACT_KINDS]
    label_texts = {_CASE_PREFIX.sub("", label) for c in candidates for label in c.cases}
    every_label = [_label_words(label) for label in label_texts]
    fitting = _fitting(every_label, situation_words)
    rank = {n: i for i, n in enumerate(group)}
    age = citizen_age(need)
    abroad = lives_abroad(need)
    # The search lowered the fiches written for another situation than the citizen's
    # ("… passeport temporaire pour un mineur" for an adult); their passages may still
    # come first, by their own words.
    told = situation_of_need(need.query)
    misfits = {n: missed_axes(passages[n - 1].chunk.payload(), told) for n in group}
    abroad_matter = abroad or bool(_SPEAKS_OF_ABROAD.search(" ".join([need.question, *need.situation])))
    lexical = [index.score(question, i) + 0.4 * index.score(situation, i) for i in range(len(candidates))]
    top_lexical = max(lexical) or 1.0
    scored = []
    for i, candidate in enumerate(candidates):
        signals = {
            "words": lexical[i] / top_lexical,
            "passage_words": passage_scores[candidate.number] / top_passage,
            "passage_rank": 1.0 / (1 + rank[candidate.number]),  # the retriever's order of passages
            "states_ask": float(states_ask := strict is not None and bool(strict.search(candidate.text))),
            "hints_ask": float(not states_ask and loose is not None and bool(loose.search(candidate.text))),
            "case_fit": _case_fit(candidate.cases, situation_words, every_label, negated, label_texts, fitting),
            "age_fit": _age_fit(candidate, age),
            "residence_fit": _residence_fit(candidate.path, abroad, abroad_matter),
            "situation_misfits": float(misfits[candidate.number]),
            "anaphoric": float(candidate.anaphoric),
            "illustrates": float(_illustrates(candidate)),
            "long": float(len(candidate.text) > _LONG_CANDIDATE),
            "listing": float(candidate.listing and kinds[0] != "procedure"),
            "yes_no": float(kinds[0] == "permission" and bool(_YES_NO.match(candidate.text))),
        }
        states_asked = any(fact.search(candidate.text) for fact in asked)
        scored.append((candidate, signals, lexical[i] > 0 or states_asked))
    return scored


_NEAR_DUPLICATE = 0.6
_MAX_ANTECEDENTS = 2
_SAID_UNDER_EVERY_CASE = 3


def _pool_of(passages: list[Passage]) -> dict[int, list[Candidate]]:
    """The candidate sentences of each passage, by its number ([1] first)."""
    return {number: candidates_of(passage, number) for number, passage in enumerate(passages, 1)}


def _cases_of_text(pool: dict[int, list[Candidate]]) -> dict[str, set[str]]:
    """Each sentence's text: the cases (last condition labels) it stands under among the
    candidates."""
    cases: dict[str, set[str]] = {}
    for candidates in pool.values():
        for candidate in candidates:
            if conditions := candidate.conditions:
                cases.setdefault(candidate.text, set()).add(conditions[-1])
    return cases


# "Ce passeport est valide 1 an": a demonstrative names what it points back to.
_DEMONSTRATIVE_NOUN = re.compile(r"^(?:ce|cet|cette|ces)\s+([\wÀ-ÿ-]{4,})", re.I)


def _named_antecedent(candidate: Candidate, passage: list[Candidate]) -> Candidate | None:
    """For a sentence opening on "Ce <noun>", the nearest sentence before it (within
    _MAX_ANTECEDENTS + 1) that names that noun and stands alone: "Un passeport temporaire
    peut être délivré en urgence…" for "Ce passeport est valide seulement pendant 1 an",
    over "Les services préfectoraux décident…" between them."""
    found = _DEMONSTRATIVE_NOUN.match(candidate.text)
    if not found:
        return None
    noun = re.compile(rf"\b{re.escape(found.group(1))}\b", re.I)
    for before in reversed(passage[max(0, candidate.position - _MAX_ANTECEDENTS - 1):candidate.position]):
        if noun.search(before.text):
            return before if not before.anaphoric else None
    return None


_EXAMPLE = re.compile(r"^(?:par exemple|exemple|ainsi, si|prenons)\b", re.I)
# A worked calculation illustrates a rule too: "10 000 € * 30 % soit 3 000 €", "(1 200 x 1/10) + …".
_CALCULATION = re.compile(r"\d\s*[€%)]?\s*(?:[*×=]|\sx\s)\s*\(?\d|\(\s*\d[\d\s,.]*€?\s[-+]\s\d")
_YES_NO = re.compile(r"^(?:oui|non)\b", re.I)
_LONG_CANDIDATE = 450
_OTHER_FICHE_RELEVANCE = 0.8
_OTHER_ASK_RELEVANCE = 0.25  # of the answer's score: a second ask is answered from the same passages
_OTHER_FICHE_ASK_RELEVANCE = 0.5  # … or, when they do not state it, from another fiche of the question's


def _illustrates(candidate: Candidate) -> bool:
    """An example, a notice's aside or a worked calculation: it illustrates a rule."""
    return candidate.aside or bool(_EXAMPLE.match(candidate.text) or _CALCULATION.search(candidate.text))


def _one_yes_no(chain: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
    """A sentence's chain (it and what it points back to) without a second "Oui / Non":
    after an opening "Non, …" the chain's own "Non, …" goes and the sentence leans on the
    opening one ("Non, vous n'êtes pas obligé… Si vous voulez néanmoins…"); with no
    opening yes/no, a chain that would bring one mid-paragraph is not taken ([])."""
    brought = [c for c in chain if c not in chosen and _YES_NO.match(c.text)]
    if not brought:
        return chain
    if any(_YES_NO.match(c.text) for c in chosen):
        return [c for c in chain if c not in brought]
    return []


def _another_case(one: Candidate, other: Candidate, passages: list[Passage]) -> bool:
    """The same sentence with other figures under another case of the fiche ("1 mois" if
    the inventory matches, "2 mois" if not): both are said, each with its condition."""
    return (one.text != other.text and passages[one.number - 1].fiche_id == passages[other.number - 1].fiche_id
            and one.cases != other.cases)


def _label_words(label: str) -> set[str]:
    return set(content_tokens(_CASE_PREFIX.sub("", label)))


def _case_fit(cases: list[str], need_words: set[str], every_label: list[set[str]],
              negated: set[str] = frozenset(), label_texts: set[str] = frozenset(),
              fitting: list[set[str]] | None = None) -> float:
    """+ for a case whose distinctive words (those its sibling cases lack) the citizen
    uses, - for one they deny ("pas d'enfant") or whose sibling their words pick;
    of two cases that differ by a negation only, + for the one the citizen's words fit.
    `fitting`: the labels the citizen's words pick (_fitting), when computed already."""
    fitting = _fitting(every_label, need_words) if fitting is None else fitting
    fit = 0.0
    for label in cases:
        if not condition_phrase(label):
            continue  # "Cas général": the default, neither named nor denied
        words = _label_words(label)
        others = set().union(*(other for other in every_label if other != words))
        distinctive = words - others
        if polarity := _negation_pair(label, label_texts):
            # "État des lieux non conforme" beside "… conforme": the citizen must deny it.
            denied = _shares_a_word(_label_words(_NEGATIVE_LABEL.sub(" ", label)), negated)
            fit += 0.6 if (polarity < 0) == denied else -0.6
        elif distinctive and _shares_a_word(distinctive, negated):
            fit -= 3.0  # a case the citizen rules out does not apply to them
        elif distinctive and _shares_a_word(distinctive, need_words):
            fit += 0.6
        elif distinctive and any(other != words for other in fitting):
            fit -= 0.6  # the citizen's words pick another case; none picked: no case is worse
    return fit


# An age the fiche sets for the reader: "Vous avez plus de 75 ans" (a case), "si … vous aviez
# plus de 65 ans et moins de 75 ans", "Vous devez être âgé(e) d'au minimum 65 ans".
_LOWER_BOUNDS = ("plus de", "au moins", "au minimum")
_BOUNDS = "|".join([*_LOWER_BOUNDS, "moins de", "au maximum", "au plus", "entre"])
_AGE_BOUND = rf"({_BOUNDS})\s+(\d{{1,3}})(?:\s+(?:et|à)\s+(\d{{1,3}}))?"
_YOUR_AGE = re.compile(
    r"\bvous (?:avez|aviez|aurez|êtes âgée?s?|etes agee?s?|devez être âgée?s?|devez etre agee?s?|devez avoir)"
    rf"(?:\(e\)|\(s\))?\s+(?P<bounds>(?:(?:d['’])?{_AGE_BOUND}\s*ans\b(?:\s*(?:et|,)\s*)?)+)", re.I)
_AGE_FITS = 0.8  # as much as stating what the question asks: it is the citizen's case
_AGE_FIT_SPAN = 20  # years from the bound at which a met condition stops telling anything
_AGE_EXCLUDES = -3.0  # as a case the citizen rules out


def age_range(text: str) -> tuple[int, int] | None:
    """(lowest, highest) age of the reader that a sentence or case label sets, if any."""
    found = _YOUR_AGE.search(text)
    if not found:
        return None
    low, high = 0, 200
    for bound, first, second in re.findall(_AGE_BOUND, found.group("bounds"), re.I):
        bound, first = bound.lower(), int(first)
        if bound == "entre" and second:
            low, high = max(low, first), min(high, int(second))
        elif bound in _LOWER_BOUNDS:
            low = max(low, first)
        elif bound != "entre":
            high = min(high, first)
    return low, high


def _age_fit(candidate: Candidate, age: int | None) -> float:
    """+ for a sentence or case whose age condition the citizen's age meets, the more the
    nearer its bound ("plus de 70 ans" at 73 is their case; "au moins 23 ans" at 73 is
    everyone's), - for one it does not meet. A bound itself is neither ("plus de 75 ans"
    at 75: the day decides)."""
    if age is None:
        return 0.0
    for text in [*(_CASE_PREFIX.sub("", label) for label in candidate.cases), candidate.text]:
        if bounds := age_range(text):
            low, high = bounds
            if age < low or age > high:
                return _AGE_EXCLUDES
            if low < age < high:
                nearest = min(age - low, high - age)
                return _AGE_FITS * max(0.0, 1 - nearest / _AGE_FIT_SPAN)
    return 0.0


# A case or a section for those who live abroad or for what happens abroad ("Vous vivez à
# l'étranger", "Naissance à l'étranger": a birth declared within 15 days, not 5), or in
# France ("Vous résidez en France", "Demande en France").
_ABROAD_PLACE = re.compile(r"\b(?:[àa] l['’][ée]tranger|hors de france)\b", re.I)
_FRANCE_PLACE = re.compile(r"\ben france\b", re.I)
_SPEAKS_OF_ABROAD = re.compile(r"\b(?:[ée]tranger|hors de france|expatri[ée]e?s?)\b", re.I)
_RESIDENCE_MISFITS = -1.0  # more than a case the citizen's words pick another of (-0.6)


def _residence_fit(path: tuple[str, ...], abroad: bool, abroad_matter: bool) -> float:
    """- for a sentence under a heading of the other place than the citizen's: abroad when
    they speak of nothing abroad (`abroad_matter`: they live abroad or use the word), France
    when they live abroad (`abroad`, lives_abroad)."""
    for label in path[1:]:
        if (is_abroad_label(label) and not abroad_matter) or (_FRANCE_PLACE.search(label) and abroad):
            return _RESIDENCE_MISFITS
    return 0.0


def _fitting(every_label: list[set[str]], need_words: set[str]) -> list[set[str]]:
    """The case labels whose distinctive words the citizen uses."""
    fitting = []
    for words in every_label:
        others = set().union(*(other for other in every_label if other != words))
        if (distinctive := words - others) and _shares_a_word(distinctive, need_words):
            fitting.append(words)
    return fitting


_NEGATED = re.compile(r"\b(?:pas|plus|jamais|non)\s+(?:d[e'’]\s*|de la |du |des )?([\wÀ-ÿ-]+)"
                      r"|\b(?:sans|aucune?|ni)\s+(?:d[e'’]\s*)?([\wÀ-ÿ-]+)", re.I)


_NEGATIVE_LABEL = re.compile(r"\b(?:non|pas|sans|aucun|aucune)\b", re.I)


def _negation_pair(label: str, label_texts: set[str]) -> int:
    """-1 for a case that negates a sibling case ("État des lieux non conforme" beside
    "État des lieux conforme"), +1 for that sibling, 0 when the passages have no such pair."""
    label = _CASE_PREFIX.sub("", label)
    negative = bool(_NEGATIVE_LABEL.search(label))
    core = _label_words(_NEGATIVE_LABEL.sub(" ", label))
    for other in label_texts:
        if other != label and bool(_NEGATIVE_LABEL.search(other)) != negative \
                and _label_words(_NEGATIVE_LABEL.sub(" ", other)) == core:
            return -1 if negative else 1
    return 0


def negated_words(text: str) -> set[str]:
    """Stems the citizen denies: "pas d'enfant", "sans emploi", "ni mariés ni pacsés"."""
    return {t for match in _NEGATED.finditer(text) for word in match.groups() if word for t in content_tokens(word)}


def _shares_a_word(words: set[str], others: set[str]) -> bool:
    """Stems match, or one is a prefix of the other ("pac" / "pacs", "salari" / "salariee")."""
    return any(a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)))
               for a in words for b in others)


def _mentions(text: str, label: str) -> bool:
    words = _label_words(label)
    return bool(words) and words <= set(content_tokens(text))


# Words that open a list item and take lower case after the lead-in's colon ("… : soit
# le nom de votre époux ; soit …"); any other first word may be a name ("Nouvelle-Calédonie").
_ITEM_OPENERS = {"le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "soit", "sur", "et", "ou", "en",
                 "pour", "par", "avec", "sans", "dans", "au", "aux", "si", "ce", "cette", "ces", "son", "sa",
                 "ses", "leur", "leurs", "votre", "vos", "à", "a", "lorsque", "quand", "dès", "après", "avant"}


def _item_after_colon(text: str) -> str:
    first = re.split(r"[\s'’]", text, maxsplit=1)[0].lower()
    return _lower_first(text) if first in _ITEM_OPENERS else text


def _lower_first(text: str) -> str:
    word = text.split(" ", 1)[0]
    # "PreParE", "CAF", "McDonald": a name keeps its capitals; an elided article or
    # pronoun does not ("L'employeur", "D'autres", "L'ANTS")
    if len(text) > 2 and text[0].isupper() and text[1] in "'’":
        return text[0].lower() + text[1:]
    if len(text) > 1 and text[0].isupper() and text[1].islower() and not any(c.isupper() for c in word[1:]):
        return text[0].lower() + text[1:]
    return text
