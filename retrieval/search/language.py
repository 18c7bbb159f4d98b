"""Is a query or a message written in French? The fiches are, and so is BM25's analyser.

A citizen may write in English, Arabic or Portuguese. Such a text is still searched (the
dense model is multilingual and often finds the right fiche), but the agent is told,
because keyword matching does not apply and the results deserve a closer look.

Language identification is py3langid (langid.py's model, shipped inside the package)
restricted to the languages the agents are likely to receive. A text is called foreign
only when French is very unlikely (below FRENCH_FLOOR) and there is enough of it to
judge: short French labels ("Cure thermale", "BCG (tuberculose)") are the hard cases,
and a false alarm costs the agent's trust more than a missed one. A text with two of the
common words only French uses (FRENCH_MARKERS) is French without asking the model, which
most questions are: the model (1.3 s to load) is then loaded only for the others.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

FRENCH = "fr"
FRENCH_FLOOR = 0.03  # below this probability of French, the text is foreign
MIN_LETTERS = 16  # shorter Latin-script texts ("APL", "Acte de vente") are not judged
MIN_OTHER_SCRIPT_LETTERS = 4  # a few Arabic, Chinese or Cyrillic letters say enough

FRENCH_MARKERS = frozenset(
    "je vous nous est sont les des une pour avec dans mon ma mes votre vos comment quel quelle "
    "quels quelles faut peut être du aux cette qu j ai suis puis".split()
)
_WORDS = re.compile(r"[^\W\d_]+")

# French names, for the notices shown to agents.
LANGUAGE_NAMES = {
    "fr": "français", "en": "anglais", "es": "espagnol", "de": "allemand", "it": "italien",
    "pt": "portugais", "nl": "néerlandais", "ar": "arabe", "zh": "chinois", "ru": "russe",
    "uk": "ukrainien", "tr": "turc", "pl": "polonais", "ro": "roumain", "vi": "vietnamien",
    "fa": "persan", "ja": "japonais", "ko": "coréen", "el": "grec", "hi": "hindi",
    "bn": "bengali", "ur": "ourdou", "sv": "suédois", "da": "danois", "no": "norvégien",
    "fi": "finnois", "cs": "tchèque", "hu": "hongrois", "br": "breton", "eu": "basque",
    "ca": "catalan", "oc": "occitan", "sq": "albanais", "hy": "arménien", "ka": "géorgien",
    "ta": "tamoul", "th": "thaï", "he": "hébreu", "bg": "bulgare", "sr": "serbe",
    "hr": "croate", "lt": "lituanien", "lv": "letton", "et": "estonien", "sk": "slovaque",
    "sl": "slovène", "mg": "malgache", "sw": "swahili", "am": "amharique", "ps": "pachto",
}

FOREIGN_QUERY_NOTICE = (
    "La question semble rédigée en {language} : les fiches sont en français et la recherche "
    "par mots-clés ne s'applique pas ; vérifiez la pertinence des passages retrouvés."
)

_identifier = None
_lock = threading.Lock()


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1 of the most likely language
    french_probability: float

    @property
    def foreign(self) -> bool:
        return self.code != FRENCH and self.french_probability < FRENCH_FLOOR

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.code, self.code)


def guess_language(text: str) -> LanguageGuess | None:
    """The likely language of `text`, or None when it is too short to judge."""
    if not _long_enough(text):
        return None
    if _clearly_french(text):
        return LanguageGuess(code=FRENCH, french_probability=1.0)
    ranked = _get_identifier().rank(text)
    probabilities = dict(ranked)
    return LanguageGuess(code=ranked[0][0], french_probability=float(probabilities.get(FRENCH, 0.0)))


def foreign_language(text: str) -> LanguageGuess | None:
    """The guess when `text` is judged foreign, else None (French or too short)."""
    guess = guess_language(text)
    return guess if guess is not None and guess.foreign else None


def _long_enough(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    other_script = sum(1 for c in letters if ord(c) > 0x024F)  # beyond Latin Extended-B
    return len(letters) >= MIN_LETTERS or other_script >= MIN_OTHER_SCRIPT_LETTERS


def _clearly_french(text: str) -> bool:
    words = {word.lower() for word in _WORDS.findall(text)}
    return len(words & FRENCH_MARKERS) >= 2


def load_identifier() -> None:
    """Load the model now (servers do it at start-up rather than on a first foreign query)."""
    _get_identifier()


def _get_identifier():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(sorted(LANGUAGE_NAMES))
            _identifier = identifier
    return _identifier
