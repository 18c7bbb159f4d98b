"""What the fiches can never answer, whatever the search finds.

Agents receive messages that no fiche answers even when one is about the same subject:
the state of the writer's own file ("où en est mon dossier ?"), the opening hours of a
local office, thanks or a complaint with no question. Searching them finds a
neighbouring fiche with some confidence and drafts an answer to another question.
`out_of_scope(need)` names the reason (a French sentence for the citizen) so that the
draft says plainly what the fiches cannot tell and who can.
"""

from __future__ import annotations

import re
from datetime import date

from generation.format import french_date
from generation.text import fold
from generation.types import Need

OWN_FILE = (
    "Les fiches officielles ne renseignent pas sur l'état d'un dossier personnel : "
    "seul l'organisme qui traite votre demande peut vous dire où elle en est."
)
LOCAL_OFFICE = (
    "Les fiches officielles ne donnent pas les horaires ni les conditions d'accueil "
    "d'un guichet local : l'annuaire de l'administration sur service-public.fr ou le service "
    "lui-même vous les indiquera."
)
NO_QUESTION = "Votre message ne pose pas de question à laquelle les fiches officielles répondent."
ACTION = (
    "Les fiches officielles expliquent les règles et les démarches ; elles ne permettent pas "
    "d'agir sur un dossier, un compte ou une commande : seul l'organisme ou l'entreprise concerné peut le faire."
)
ADVICE = (
    "Les fiches officielles décrivent les règles ; elles ne donnent ni conseil personnalisé "
    "ni pronostic sur l'issue d'une affaire : un professionnel (avocat, conseiller, point-justice) peut vous "
    "accompagner."
)
NEWER_LAW = (
    "Les fiches officielles dont nous disposons sont à jour au {snapshot} : elles ne tiennent pas compte de la réforme "
    "ou de la loi de {year} dont parle votre message."
)

_OWN_FILE = re.compile(
    r"\b(?:ou en (?:est|sont)|etat d'avancement|suivi) (?:de )?(?:mon|ma|mes|notre|nos|le|la|son|sa)\s+"
    r"(?:\w+\s+){0,2}?(?:dossier|demande|requete|paiement|remboursement|versement)"
    r"|\b(?:mon|ma|notre) (?:dossier|demande)\b.{0,80}\b(?:(?:aucune|pas de|toujours pas de|sans) (?:nouvelles?|reponse)"
    r"|a-t-(?:il|elle) ete (?:accepte|refuse|valide|traite)e?s?|est-(?:il|elle) (?:accepte|refuse|valide|complet|traite)e?s?)"
    r"|\b(?:avez-vous|vous avez) (?:bien )?recu (?:mon|ma|mes)\b",
)
_OFFICES = (r"(?:mairie|caf|cpam|prefecture|sous-prefecture|agence|guichet|bureau|antenne|poste|tresorerie"
            r"|centre des impots|france services|carsat|urssaf|msa|consulat|ambassade|accueil)")
_LOCAL_OFFICE = re.compile(
    rf"\bhoraires? d'(?:ouverture|accueil)\b"
    rf"|\b{_OFFICES}\b.{{0,60}}\b(?:ouverte?s?|fermee?s?|horaires?)\b"
    rf"|\b(?:ouverte?s?|horaires?)\b.{{0,40}}\b{_OFFICES}\b"
    rf"|\bsans rendez-vous le (?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b",
)
# The writer asks the administration to act for them, not to inform them.
_ACTION = re.compile(
    r"\b(?:pouvez-vous|pourriez-vous|vous pouvez|vous pourriez|pouvez vous|pourriez vous)\s+(?:me |nous |la |le |les |l')*"
    r"(?:modifier|debloquer|annuler|corriger|changer|rembourser|relancer|reactiver|supprimer|resilier|envoyer"
    r"|renvoyer|transmettre|valider|accelerer|traiter|mettre a jour)\b"
    r"|\b(?:pouvez-vous|pourriez-vous|vous pouvez|vous pourriez) (?:me |nous )?dire si (?:c'est|il est|elle est"
    r"|mon|ma|mes|notre) ?(?:\w+ )?(?:accepte|refuse|valide|bon|passe)e?s?\b",
)
# Advice or a forecast on the writer's own case.
_ADVICE = re.compile(
    r"\b(?:vous me conseillez|que me conseillez|me conseilleriez|vaut-il mieux|il vaut mieux|vaut mieux"
    r"|qu'est-ce qui est le plus (?:rentable|avantageux|interessant)|a votre avis|vous feriez quoi"
    r"|(?:j'ai|ai-je|on a|avons-nous|quelles sont mes|quelles sont nos) (?:des |de |mes |nos )?chances"
    r"|chances de (?:gagner|l'emporter|obtenir)|combien (?:de dommages|je (?:peux|pourrais) (?:obtenir|gagner)))",
)
# A reform or law the message dates after the fiches.
_DATED_LAW = re.compile(r"\b(?:reforme|loi|decret|nouvelle? regle|nouvelles? regles)\b[^.?!]{0,40}?\b(20\d\d)\b"
                        r"|\b(20\d\d)\b[^.?!]{0,20}?\b(?:reforme|loi)\b")
_THANKS_OR_COMPLAINT = re.compile(
    r"\b(?:je (?:voulais|voudrais|tenais a|souhaitais) (?:juste |simplement )?(?:vous )?remercier"
    r"|merci (?:encore )?pour votre (?:reponse|aide|accueil)"
    r"|je tenais a (?:le dire|vous le dire|le signaler)|c'est (?:honteux|inadmissible|scandaleux))",
)


def out_of_scope(need: Need, snapshot: date | None = None) -> str | None:
    """Why no fiche can answer this need (French, for the draft), or None. `snapshot`:
    the date of the fiches searched, for reforms the message dates after them."""
    text = fold(" ".join([need.question, *need.situation]))
    question = fold(need.question)
    if _OWN_FILE.search(question):
        return OWN_FILE
    if _LOCAL_OFFICE.search(question):
        return LOCAL_OFFICE
    if _ACTION.search(question):
        return ACTION
    if _ADVICE.search(question):
        return ADVICE
    if snapshot is not None and (year := _newer_law_year(question, snapshot)):
        return NEWER_LAW.format(snapshot=french_date(snapshot.isoformat()), year=year)
    if not need.asked and _THANKS_OR_COMPLAINT.search(text):  # the message asks nothing
        return NO_QUESTION
    return None


def _newer_law_year(folded_question: str, snapshot: date) -> int | None:
    years = [int(y) for match in _DATED_LAW.finditer(folded_question) for y in match.groups() if y]
    newer = [year for year in years if year > snapshot.year]
    return max(newer) if newer else None
