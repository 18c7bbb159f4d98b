"""Refits the confidence model on message-like needs, read as drafts read them.

    python -m evals.calibrate_needs --index-dir data/index [--limit 400]

The confidence of a draft's search decides whether it abstains. It was fitted on short
questions; e-mails are searched as needs (question, situation, several formulations,
retrieval.search.retriever.IndexRetriever.search_many), whose signals differ. This builds
e-mail-like messages from the corpus itself, never from the evaluation sets:

- positives: the editors' related-question labels and the Question-réponse titles
  (retrieval.dev.calibrate.derived_questions), each wrapped in an e-mail (greeting, a
  situation sentence that names no subject, the question, often without accents, a
  closing); label 1 when the target fiche is among the top 5;
- negatives: questions and e-mail requests that service-public.fr does not answer
  (OUT_OF_SCOPE and OUT_OF_SCOPE_MESSAGES), wrapped the same way;
- and, since one model serves both, the same kind of questions searched as typed
  in a search box (retrieval.dev.calibrate).

Prints the fitted Calibration to paste into retrieval.search.confidence.CALIBRATIONS, with
AUC and Brier score on a held-out fifth.
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata

import numpy as np

from retrieval.dev.calibrate import OUT_OF_SCOPE, auc, derived_questions, fit_logistic
from retrieval.dev.calibrate import collect as plain_collect
from retrieval.types import SearchMode

OUT_OF_SCOPE_MESSAGES = [
    "Je cherche le titre d'une chanson entendue à la radio ce matin, pouvez-vous m'aider à le trouver ?",
    "Je n'arrive pas à me connecter à l'application de ma banque, que faire ?",
    "Quel âge peut atteindre une tortue géante des Galápagos ?",
    "Le magasin de bricolage de ma ville est-il ouvert le dimanche matin ?",
    "Quels sont les horaires de la piscine municipale le dimanche ?",
    "Pouvez-vous me dire quand passe le bus 12 ce soir ?",
    "Mon dossier déposé le mois dernier est-il complet ? je n'ai pas de nouvelles",
    "Où en est ma demande envoyée il y a un mois ? on ne me répond pas",
    "Est-ce que vous avez bien reçu mon courrier recommandé de lundi ?",
    "Pouvez-vous me donner le numéro de téléphone direct de mon conseiller ?",
    "J'aimerais savoir comment on fabrique le fromage de Comté.",
    "Mon perroquet ne mange plus depuis deux jours, est-ce grave ?",
    "Comment dessiner un visage de profil quand on débute ?",
    "Je voudrais savoir quel smartphone acheter pour ma mère âgée.",
    "Qui a inventé l'imprimerie en Europe ?",
    "Comment faire germer un noyau d'avocat ?",
    "À quelle saison peut-on observer les baleines en Méditerranée ?",
    "Combien de temps faut-il pour apprendre le portugais ?",
    "Combien coûte un billet de train Paris-Marseille en août ?",
    "Ma voisine fait trop de bruit, pouvez-vous venir lui parler ?",
    "Je veux me plaindre de l'accueil que j'ai reçu lundi au guichet, c'était inadmissible.",
    "Je voulais simplement vous remercier pour votre aide de mardi dernier.",
    "Pouvez-vous annuler mon rendez-vous de jeudi et m'en donner un autre ?",
    "Comment entretenir un bonsaï en appartement ?",
    "Quelle est l'origine du mot « sandwich » ?",
    "Pourquoi les feuilles des arbres changent-elles de couleur en automne ?",
    "Quels romans lire pour découvrir la science-fiction ?",
    "Combien de pattes a une araignée ?",
    "Est-ce que la boulangerie en bas de chez moi fait des pièces montées sur commande ?",
    "Quand aura lieu la brocante du quartier ?",
]

GREETINGS = ["Bonjour,", "bonjour", "Bonjour madame, monsieur,", "Bonsoir,", "Madame, Monsieur,"]
SITUATIONS = [
    "",
    "Je me permets de vous écrire car je ne trouve pas l'information.",
    "Je suis un peu perdu dans mes démarches.",
    "Ma situation a changé récemment et j'ai une question.",
    "On m'a conseillé de vous écrire.",
    "J'ai cherché sur internet mais je ne comprends pas bien.",
    "Nous sommes une famille avec deux enfants.",
    "Je suis retraitée et je vis seule.",
]
CLOSINGS = ["Merci d'avance.\nMarie", "Cordialement,\nJ. Martin", "Merci", "Bien à vous,\nPaul Durand", ""]


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def as_message(question: str, rng: random.Random) -> str:
    """The question as a citizen's e-mail: greeting, a situation naming no subject,
    the question (half the time without accents, sometimes in lower case), a closing."""
    if rng.random() < 0.5:
        question = strip_accents(question)
    if rng.random() < 0.3:
        question = question[0].lower() + question[1:]
    parts = [rng.choice(GREETINGS), rng.choice(SITUATIONS), question, rng.choice(CLOSINGS)]
    return "\n".join(part for part in parts if part)


def message_like(retriever, limit: int, seed: int = 0) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    pairs = [(q, gold) for q, gold in derived_questions(retriever, limit, seed) if gold is not None]
    pairs += [(q, None) for q in OUT_OF_SCOPE + OUT_OF_SCOPE_MESSAGES]
    return [(as_message(q, rng), gold) for q, gold in pairs]


def collect(service, messages: list[tuple[str, str | None]], k: int = 5):
    rows, labels = [], []
    for message, gold in messages:
        _, results = service.understand(message, k=k)
        result = results[0]
        rows.append(result.signals)
        labels.append(1.0 if gold is not None and gold in [f.fiche_id for f in result.fiches] else 0.0)
    return rows, np.array(labels)


def main() -> None:
    from evals.runtime import draft_service, open_retriever

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    retriever = open_retriever(args.index_dir)
    service = draft_service(retriever)
    rows, y = collect(service, message_like(retriever, args.limit, args.seed))
    # Search-box questions share the model: fitted on both, it serves both.
    plain_rows, plain_y = plain_collect(retriever, derived_questions(retriever, args.limit, args.seed + 1),
                                        SearchMode.HYBRID)
    rows, y = rows + plain_rows, np.concatenate([y, plain_y])
    names = sorted({n for row in rows for n in row})
    x = np.array([[row.get(n, 0.0) for n in names] for row in rows])
    order = np.random.default_rng(args.seed).permutation(len(y))
    held = order[: len(y) // 5]
    train = order[len(y) // 5 :]
    weights, bias = fit_logistic(x[train], y[train])
    p = 1 / (1 + np.exp(-(x[held] @ weights + bias)))
    print(json.dumps({
        "model": retriever.build_info.get("embedder"),
        "weights": dict(zip(names, np.round(weights, 4).tolist())),
        "bias": round(bias, 4),
        "messages": len(y),
        "positives": int(y.sum()),
        "held_out_auc": round(auc(p, y[held]), 4),
        "held_out_brier": round(float(np.mean((p - y[held]) ** 2)), 4),
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
