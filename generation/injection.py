"""Prompt-injection screening of untrusted text (citizens' messages, indexed passages).

Defence in depth, not a filter one can rely on alone: the message is fenced in the
prompt, the LLM's answer is verified sentence by sentence, unsourced contacts are
masked. This module adds two layers: sentences of a passage that address the model
("ignore les instructions…", "note à l'assistant…") are removed before the passage
is shown to the LLM or used as a source of allowed links, and a message that
contains such sentences gets a notice for the agent.
"""

from __future__ import annotations

import re
from dataclasses import replace

from generation.text import split_sentences
from retrieval.types import Passage

INJECTION_PATTERNS = re.compile(
    r"ignor\w*\s+(?:toutes?\s+)?(?:les|tes|vos|ces|the|all|any|previous|prior)?\s*"
    r"(?:\w+\s+)?(?:instructions?|consignes?|règles|directives|prompts?)"
    r"|oublie[sz]?\s+(?:tout\b|(?:toutes?\s+)?(?:les|tes|vos)\s+(?:instructions?|consignes?|règles))"
    r"|(?:nouvelles?|new)\s+(?:consignes?|instructions?)\s*:"
    r"|tu\s+es\s+(?:désormais|maintenant|à\s+présent)|you\s+are\s+now|à\s+partir\s+de\s+maintenant,?\s+tu"
    r"|(?:note|message|instructions?|consignes?)\s+(?:à|pour|to)\s+(?:l['’]|le\s+|la\s+|the\s+)?"
    r"(?:assistant|ia|intelligence\s+artificielle|modèle|llm|chatbot|ai|robot)"
    r"|(?:révèle|affiche|donne|répète|recopie|écris|montre|reveal|print|show|repeat)\w*(?:-moi)?\s+"
    r"(?:(?:ton|tes|vos|votre|your)\s+(?:prompt|instructions?|consignes|règles|message\s+système)"
    r"|(?:le|les|the)\s+(?:prompt|message\s+système|system))"
    r"|prompt\s+(?:système|system)|system\s+prompt|disregard\s+(?:all|previous|the)"
    r"|<\|?im_start\|?>|\[/?INST\]|###\s*(?:instructions?|system)\s*:|<\s*/?\s*system\s*>"
    r"|(?:assistant|system)\s*:\s*(?=\S)"
    r"|\bdans\s+(?:ta|la|votre)\s+réponse|\b(?:dis|dites)\s+à\s+l['’]agent"
    r"|\b(?:écris|écrivez|ajoutez|affirmez|insérez)\s+(?:que|qu['’]|un\s+lien|le\s+lien|ce\s+lien|ce\s+numéro)"
    r"|\bajoute\s+(?:un|le|ce)\s+lien"
    r"|\bcite\s+\[\d+\]",
    re.IGNORECASE,
)

REMOVED_PASSAGE_TEXT = "[texte retiré : instruction suspecte]"
MESSAGE_NOTICE = (
    "Le message contient des phrases qui ressemblent à des instructions adressées à l'outil "
    "(tentative de manipulation possible) : elles n'ont pas été suivies."
)
PASSAGE_NOTICE = "Un passage contenait des instructions suspectes ; elles ont été retirées avant la rédaction."


def looks_like_injection(text: str) -> bool:
    return bool(INJECTION_PATTERNS.search(text))


def neutralise(text: str) -> tuple[str, int]:
    """The text with its injection-like sentences replaced; how many were replaced."""
    removed = 0
    for span in reversed(split_sentences(text)):
        if looks_like_injection(span.text):
            text = text[: span.start] + REMOVED_PASSAGE_TEXT + text[span.end :]
            removed += 1
    return text, removed


def neutralise_passages(passages: list[Passage]) -> tuple[list[Passage], int]:
    cleaned, removed_total = [], 0
    for passage in passages:
        text, removed = neutralise(passage.text)
        if removed:
            passage = replace(passage, chunk=replace(passage.chunk, text=text))
            removed_total += removed
        cleaned.append(passage)
    return cleaned, removed_total
