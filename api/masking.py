"""Personal data masked before a citizen's text is stored (drafts, feedback, gaps)."""

from __future__ import annotations

import re

from generation.pii import EMAIL

_MASKS = (
    (EMAIL, "[courriel]"),
    (re.compile(r"\bFR\d{2}(?:\s?[0-9A-Z]{4}){5}\s?[0-9A-Z]{3}\b", re.I), "[iban]"),
    (re.compile(r"\b[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b"), "[nir]"),
    (re.compile(r"(?:\+33\s?|0)[1-9](?:[\s.-]?\d{2}){4}\b"), "[téléphone]"),
    (re.compile(r"\b\d{7,}\b"), "[numéro]"),
)


def mask_personal_data(text: str) -> str:
    """Names, e-mails, phones, NIR, IBAN… replaced by placeholders (generation.pii when
    present, and these patterns as a second net)."""
    try:
        from generation.pii import mask
    except ImportError:
        pass
    else:
        text = mask(text).text
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text
