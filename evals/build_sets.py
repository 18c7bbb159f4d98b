"""Question sets derived from the corpus itself, reproducibly (sorted, then seeded samples).

Three files come out of `build_sets`:

- `titles.jsonl` (kind `qr_title`, leaky): the title of each "Question-réponse" fiche
  that ends with "?" → that fiche. Titles are indexed, so these are easy.
- `labels.jsonl`: labels written by the editors that differ from the target's title →
  the target. Kinds: `related_question` (QuestionReponse links), `life_event`
  (CommentFaireSi links; these labels are the targets' titles, so marked leaky),
  `guided_path` (Recherche guidée option paths, prefixed with
  the guide's title), `dossier_label` (short labels of the fiches listed in N*
  dossiers and themes), `glossary` ("Que signifie « terme » ?" → the fiches that
  define the term, terms defined in at most GLOSSARY_MAX_FICHES fiches).
- `uncovered.jsonl` (kind `out_of_scope`, gold []): citizen questions about topics
  outside service-public.fr's scope, from the fixed lists below (templates × topics),
  for abstention. They are the same whatever the corpus.

Gold targets are content fiches (F*) present in the source. A question text is kept
once per kind (first target in ID order wins when labels collide).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from evals.datasets import Question, write_dataset
from evals.metrics import normalise
from ingest.model import GUIDED_SEARCH
from ingest.tree import Element

GLOSSARY_MAX_FICHES = 10
GLOSSARY_TEMPLATE = "Que signifie « {term} » ?"
GUIDED_PATH_SEPARATOR = " : "
LABEL_KINDS = ("related_question", "life_event", "guided_path", "dossier_label", "glossary")

# Out-of-scope questions: no service-public.fr fiche answers them. Fixed lists, so the
# set is the same whatever the corpus; each template is applied to every topic of its list.
OUT_OF_SCOPE: dict[str, list[str]] = {
    "Quel est le score du dernier match {}, s'il vous plaît ?": [
        "du PSG contre l'OM", "de l'équipe de France de rugby", "de Roland-Garros en finale dames",
        "de la Ligue des champions", "du Tour de France d'hier",
    ],
    "Bonjour, pouvez-vous me donner la recette {} ?": [
        "du bœuf bourguignon", "de la tarte tatin", "des crêpes de la Chandeleur",
        "de la blanquette de veau", "du gâteau au chocolat sans farine",
    ],
    "Mon {} est en panne, comment le réparer moi-même ?": [
        "iPhone", "lave-linge Samsung", "ordinateur portable Dell", "robot aspirateur", "four micro-ondes",
    ],
    "Quel est le meilleur forfait {} en ce moment ?": [
        "mobile chez Free", "internet chez Orange", "Netflix", "Spotify familial", "de ski à Val Thorens",
    ],
    "Comment obtenir un permis de conduire {} quand on y habite depuis toujours ?": [
        "au Brésil", "au Japon", "en Californie", "en Australie", "au Québec",
    ],
    "Quelles sont les démarches auprès de l'administration {} pour y payer mes impôts locaux ?": [
        "italienne", "allemande", "marocaine", "chinoise", "argentine",
    ],
    "Pouvez-vous me conseiller un bon {} près de chez moi ?": [
        "restaurant japonais", "coiffeur", "garage pour ma voiture", "club de yoga", "hôtel pas cher",
    ],
    "Quel temps fera-t-il {} ?": [
        "ce week-end à Brest", "demain à Marseille", "pendant les vacances à Nice", "à Noël à Strasbourg",
        "la semaine prochaine à Lille",
    ],
    "Comment jouer {} ?": [
        "aux échecs", "de la guitare", "au poker en ligne", "au bridge", "à Fortnite",
    ],
    "Quelle est la différence entre {} ?": [
        "un chat persan et un chat siamois", "le champagne et le crémant", "Marvel et DC Comics",
        "un espresso et un ristretto", "le tennis et le padel",
    ],
}


@dataclass
class Document:
    """What build-sets needs of one publication (read from its element tree)."""

    id: str
    type: str
    title: str
    root: Element


@dataclass
class BuiltSets:
    titles: list[Question] = field(default_factory=list)
    labels: list[Question] = field(default_factory=list)
    uncovered: list[Question] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"qr_title": len(self.titles), "out_of_scope": len(self.uncovered)}
        for kind in LABEL_KINDS:
            counts[kind] = sum(1 for q in self.labels if q.kind == kind)
        return counts


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def document_from_root(root: Element) -> Document | None:
    """A Document from a Publication/ServiceComplementaire root (None if it has no ID)."""
    doc_id = root.get("ID")
    if not doc_id:
        return None
    title_element = root.first("dc:title")
    title = clean(title_element.text()) if title_element is not None else ""
    return Document(doc_id, root.get("type", ""), title, root)


def build_sets(documents: Iterable[Document], *, seed: int = 13, max_per_kind: int = 0) -> BuiltSets:
    """All sets from the documents (deduplicated by ID; the first one read wins)."""
    by_id: dict[str, Document] = {}
    for doc in documents:
        by_id.setdefault(doc.id, doc)
    docs = [by_id[i] for i in sorted(by_id, key=_id_key)]
    titles = {d.id: d.title for d in docs if d.id.startswith("F")}
    built = BuiltSets(
        titles=_sample(qr_title_questions(docs), max_per_kind, seed),
        uncovered=out_of_scope_questions(),
    )
    for kind, pairs in (
        ("related_question", link_labels(docs, "QuestionReponse")),
        ("guided_path", guided_paths(docs)),
        ("dossier_label", dossier_labels(docs)),
    ):
        built.labels += _sample(_label_questions(kind, pairs, titles), max_per_kind, seed)
    # Life-event labels are the titles of the "Comment faire si" fiches: kept, marked leaky.
    life_events = _label_questions("life_event", link_labels(docs, "CommentFaireSi"), titles, leaky=True)
    built.labels += _sample(life_events, max_per_kind, seed)
    built.labels += _sample(glossary_questions(docs, titles), max_per_kind, seed)
    return built


def qr_title_questions(docs: list[Document]) -> list[Question]:
    return [
        Question(f"qr-{d.id}", d.title, [d.id], extra={"kind": "qr_title", "leaky": True})
        for d in docs
        if d.id.startswith("F") and d.type.startswith("Fiche Question-réponse") and d.title.endswith("?")
    ]


def link_labels(docs: list[Document], element_name: str) -> list[tuple[str, list[str]]]:
    """(label, [target]) for every <element_name ID="F…">label</…> link in the corpus."""
    pairs = []
    for doc in docs:
        for link in doc.root.iter(element_name):
            target, label = link.get("ID", ""), clean(link.text())
            if target and label:
                pairs.append((label, [target]))
    return pairs


def dossier_labels(docs: list[Document]) -> list[tuple[str, list[str]]]:
    """Labels of the fiches listed in N* dossiers and themes (<Fiche ID>label</Fiche>)."""
    pairs = []
    for doc in docs:
        if not doc.id.startswith("N"):
            continue
        for link in doc.root.iter("Fiche"):
            title = link.first("Titre")  # "Voir aussi" links carry their label in a Titre
            target, label = link.get("ID", ""), clean((title or link).text())
            if target and label:
                pairs.append((label, [target]))
    return pairs


def guided_paths(docs: list[Document]) -> list[tuple[str, list[str]]]:
    """Recherche guidée: guide title + the option titles down to a branch that links fiches."""
    pairs = []
    for doc in docs:
        if doc.type != GUIDED_SEARCH:
            continue
        for problems in doc.root.iter("Problematiques"):
            for problem in problems.elements("Problematique"):
                _walk_branch(problem, [doc.title], pairs)
    return pairs


def _walk_branch(node: Element, path: list[str], pairs: list) -> None:
    title = node.first("Titre")
    label = clean(title.text()) if title is not None else ""
    path = path + [label] if label else path
    targets = [link.get("LienPublication", "") for link in node.elements("LienInterne")]
    targets = [t for t in targets if t]
    if targets and len(path) > 1:
        pairs.append((path[0] + GUIDED_PATH_SEPARATOR + ", ".join(path[1:]), _unique(targets)))
    for branch in node.elements("Branche"):
        _walk_branch(branch, path, pairs)


def glossary_questions(docs: list[Document], titles: dict[str, str]) -> list[Question]:
    """Glossary terms → the fiches that define them (title containing the term first)."""
    fiches_by_term: dict[str, set[str]] = defaultdict(set)
    spelling: dict[str, str] = {}
    for doc in docs:
        if doc.id not in titles:
            continue
        for definition in doc.root.iter("Definition"):
            title = definition.first("Titre")
            term = clean(title.text()) if title is not None else ""
            if term:
                fiches_by_term[normalise(term)].add(doc.id)
                spelling.setdefault(normalise(term), term)
    questions = []
    for key in sorted(fiches_by_term):
        fiches = fiches_by_term[key]
        if len(fiches) > GLOSSARY_MAX_FICHES:
            continue
        gold = sorted(fiches, key=lambda f: (key not in normalise(titles[f]), _id_key(f)))
        term = spelling[key]
        questions.append(
            Question(f"glossary-{_slug(term)}", GLOSSARY_TEMPLATE.format(term=term), gold, extra={"kind": "glossary"})
        )
    return _unique_ids(questions)


def out_of_scope_questions() -> list[Question]:
    questions = []
    for template, topics in OUT_OF_SCOPE.items():
        for topic in topics:
            questions.append(Question("", template.format(topic), [], extra={"kind": "out_of_scope"}))
    for number, question in enumerate(questions):
        question.id = f"oos-{number:03d}"
    return questions


def _label_questions(
    kind: str, pairs: list[tuple[str, list[str]]], titles: dict[str, str], *, leaky: bool = False
) -> list[Question]:
    """Keep targets that are known fiches and (unless `leaky`) labels that differ from
    every target's title; one question per distinct label (the smallest target list in
    ID order wins)."""
    chosen: dict[str, tuple[str, list[str]]] = {}
    for label, targets in pairs:
        targets = [t for t in targets if t in titles]
        if not targets or (not leaky and any(normalise(label) == normalise(titles[t]) for t in targets)):
            continue
        key = normalise(label)
        candidate = (label, targets)
        if key not in chosen or _targets_key(targets) < _targets_key(chosen[key][1]):
            chosen[key] = candidate
    extra = {"kind": kind, "leaky": True} if leaky else {"kind": kind}
    questions = [
        Question(f"{kind}-{_slug(label)}", label, targets, extra=dict(extra))
        for label, targets in (chosen[k] for k in sorted(chosen))
    ]
    return _unique_ids(questions)


def _sample(questions: list[Question], limit: int, seed: int) -> list[Question]:
    if not limit or len(questions) <= limit:
        return questions
    picked = random.Random(seed).sample(range(len(questions)), limit)
    return [questions[i] for i in sorted(picked)]


def _unique_ids(questions: list[Question]) -> list[Question]:
    seen: dict[str, int] = defaultdict(int)
    for question in questions:
        seen[question.id] += 1
        if seen[question.id] > 1:
            question.id = f"{question.id}-{seen[question.id]}"
    return questions


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _targets_key(targets: list[str]) -> tuple:
    return (len(targets), [_id_key(t) for t in targets])


def _id_key(fiche_id: str) -> tuple[str, int]:
    digits = re.sub(r"\D", "", fiche_id)
    return (fiche_id[:1], int(digits) if digits else 0)


def _slug(text: str, length: int = 48) -> str:
    ascii_text = unicodedata.normalize("NFKD", normalise(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:length].rstrip("-") or "x"


def write_sets(built: BuiltSets, out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    paths = {
        "titles": out_dir / "titles.jsonl",
        "labels": out_dir / "labels.jsonl",
        "uncovered": out_dir / "uncovered.jsonl",
    }
    write_dataset(paths["titles"], built.titles)
    write_dataset(paths["labels"], built.labels)
    write_dataset(paths["uncovered"], built.uncovered)
    return paths
