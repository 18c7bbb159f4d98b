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

from generation.text import fold
from generation.types import Need

OWN_FILE = (
    "Les fiches de service-public.fr ne renseignent pas sur l'état d'un dossier personnel : "
    "seul l'organisme qui traite votre demande peut vous dire où elle en est."
)
LOCAL_OFFICE = (
    "Les fiches de service-public.fr ne donnent pas les horaires ni les conditions d'accueil "
    "d'un guichet local : l'annuaire de l'administration sur service-public.fr ou le service "
    "lui-même vous les indiquera."
)
NO_QUESTION = "Votre message ne pose pas de question à laquelle les fiches de service-public.fr répondent."

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
_THANKS_OR_COMPLAINT = re.compile(
    r"\b(?:je (?:voulais|voudrais|tenais a|souhaitais) (?:juste |simplement )?(?:vous )?remercier"
    r"|merci (?:encore )?pour votre (?:reponse|aide|accueil)"
    r"|je tenais a (?:le dire|vous le dire|le signaler)|c'est (?:honteux|inadmissible|scandaleux))",
)


def out_of_scope(need: Need) -> str | None:
    """Why no fiche can answer this need (French, for the draft), or None."""
    text = fold(" ".join([need.question, *need.situation]))
    question = fold(need.question)
    if _OWN_FILE.search(question):
        return OWN_FILE
    if _LOCAL_OFFICE.search(question):
        return LOCAL_OFFICE
    if not need.asked and _THANKS_OR_COMPLAINT.search(text):  # the message asks nothing
        return NO_QUESTION
    return None
