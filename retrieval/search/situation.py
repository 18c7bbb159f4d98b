"""The citizen's situation, read from a message's need, against the situation a fiche
is written for.

Many fiches come in pairs that differ by whom they are for: "Arrêt maladie : indemnités
journalières versées au salarié" / "Arrêt maladie d'un fonctionnaire", "Vote par
procuration" / "Vote d'un Français installé à l'étranger", "Passeport en urgence" / "…
pour un mineur". A long e-mail matches both by its words; what the citizen says of
themselves ("mon patron", "nous vivons à Bordeaux", no child named) tells them apart.
Each axis reads a value from the need and from a fiche's title (and source); the first
fiches written for another value than the need's are scored MISMATCH_FACTOR lower, once
per axis they miss.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.model import LABOUR_SOURCES

MISMATCH_FACTOR = 0.85  # a fiche for another situation keeps its place only well ahead (sector alone: 0.7 the same)


@dataclass(frozen=True)
class Axis:
    """One way fiches differ by whom they are for: its value for a need's text and for a
    fiche's payload (None: the text or the fiche does not say)."""

    name: str
    of_need: Callable[[str], str | None]
    of_fiche: Callable[[dict], str | None]
    # Whether a fiche's value fits the need's (default: the same value).
    fits: Callable[[str, str], bool] = lambda need, fiche: need == fiche


# Public service or private sector: the split that decides between most labour fiches.
# Read from the need ("je suis contractuel à la préfecture", "mon patron") and from the
# titles; the labour sources' fiches are the Code du travail's.
_PUBLIC_NEED = re.compile(
    r"\b(?:fonctionnaire|agente? (?:public|publique|territorial|territoriale|hospitalier|hospitali[eè]re)"
    r"|fonction publique|contractuel(?:le)?\b.{0,60}\b(?:pr[eé]fecture|mairie|commune|h[oô]pital|minist[eè]re"
    r"|collectivit[eé]|rectorat|[eé]ducation nationale))", re.I)
_PRIVATE_NEED = re.compile(r"\b(?:salari[eé]e?|mon (?:patron|employeur|chef)|ma (?:bo[iî]te|soci[eé]t[eé]|entreprise)"
                           # "il était retraité du privé", "salarié dans le privé" (not "une entreprise privée")
                           r"|secteur priv[eé]|(?:du|dans le) priv[eé]\b|en (?:cdi|cdd)\b)", re.I)
_PUBLIC_TITLE = re.compile(r"\b(?:fonctionnaire|agents? publics?|fonction publique|agent contractuel|secteur public"
                           r"|agent territorial|militaire)", re.I)
_PRIVATE_TITLE = re.compile(r"\b(?:secteur priv[eé]|salari[eé])", re.I)


def sector_of_need(text: str) -> str | None:
    """"public", "private" or None: the sector a need's words place the citizen in (a
    public employer named beats "CDI": a contractual agent asks about a CDI too)."""
    if _PUBLIC_NEED.search(text):
        return "public"
    return "private" if _PRIVATE_NEED.search(text) else None


def sector_of_fiche(payload: dict) -> str | None:
    """The sector a fiche is written for, if its title names one; the labour sources are
    the Code du travail's: the private sector's."""
    title = payload.get("title", "")
    if _PUBLIC_TITLE.search(title):
        return "public"
    if _PRIVATE_TITLE.search(title) or payload.get("source") in LABOUR_SOURCES:
        return "private"
    return None


# A need about work: the labour sources' domain. Words of the employment relationship,
# its pay and its endings; a public employer named is the public service's (its own
# fiches on service-public.fr).
_LABOUR_NEED = re.compile(
    r"\b(?:contrat de travail|employeur|patronne?|salaires?|fiches? de paie|bulletins? de (?:paie|salaire)"
    r"|heures? suppl[ée]mentaires|heures sup|licenci\w*|d[ée]missionn?\w*|cong[ée]s pay[ée]s|p[ée]riode d['’]essai"
    r"|prud['’]?hom\w*|cdi|cdd|rupture conventionnelle|convention collective|mon responsable|mon chef"
    r"|mon directeur|ma directrice|coll[eè]gues?|planning|ma bo[iî]te|mon travail|au travail|travaill\w+"
    r"|int[ée]rim\w*|apprenti\w*|stagiaire|embauch\w*|salari[ée]e?s?)\b", re.I)


# Benefits, pensions and taxes: service-public.fr's, not the Code du travail's, even when
# the need speaks of a job or a salary (unless it names an employer or the sector).
_BENEFIT_NEED = re.compile(
    r"\b(?:aah|rsa|apl|als|alf|prime d['’]activit[ée]|caf|allocations? familiales"
    r"|allocation aux adultes handicap[ée]s|retraite|pension|imp[ôo]ts?|taxe d['’]habitation"
    r"|d[ée]claration de revenus)\b", re.I)


def is_labour_need(text: str) -> bool:
    """The need is about work in the private sector (sector_of_need, or the words of
    the employment relationship without a public employer)."""
    sector = sector_of_need(text)
    if sector is None and _BENEFIT_NEED.search(text):
        return False  # "son salaire va-t-il être déduit de son AAH ?": the benefit's fiches
    return sector == "private" or (sector is None and bool(_LABOUR_NEED.search(text)))


# Where the citizen lives: in France unless they say otherwise (a citizen abroad says so:
# "j'habite au Canada", "nous sommes expatriés"). Travelling abroad is not living there.
_ABROAD_NEED = re.compile(r"\b(?:(?:j['’]habite|je vis|je r[ée]side|nous vivons|nous habitons|nous r[ée]sidons"
                          r"|(?:je suis|nous sommes) install[ée]e?s?|vivant|r[ée]sidant)\s+[àa] l['’][ée]tranger"
                          r"|expatri[ée]e?s?|hors de france)\b", re.I)
_ABROAD_COUNTRY_NEED = re.compile(r"\b(?:[Jj]['’]habite|[Jj]e vis|[Jj]e r[ée]side|[Nn]ous vivons|[Nn]ous habitons"
                                  r"|[Nn]ous r[ée]sidons|install[ée]e?s?)\s+(?:au|aux|en)\s+(?!France\b)[A-ZÉ]")
_ABROAD_TITLE = re.compile(r"\b(?:(?:install[ée]|vivant|r[ée]sidant|[ée]tabli|domicili[ée])e?s? (?:[àa] l['’][ée]tranger"
                           r"|hors de france)|fran[çc]ais(?:es?)? de l['’][ée]tranger|expatri[ée]e?s?)\b", re.I)


def lives_abroad(text: str) -> bool:
    """The text says its writer lives outside France."""
    return bool(_ABROAD_NEED.search(text) or _ABROAD_COUNTRY_NEED.search(text))


def residence_of_need(text: str) -> str:
    return "abroad" if lives_abroad(text) else "france"


def residence_of_fiche(payload: dict) -> str | None:
    """"abroad" for a fiche written for those who live abroad ("Vote d'un Français
    installé à l'étranger"); None for the others, which are for everyone."""
    return "abroad" if _ABROAD_TITLE.search(payload.get("title", "")) else None


# A minor or an adult: "Passeport en urgence : passeport temporaire pour un mineur" is for
# a parent asking about their child. A need that names no child is an adult's own.
_CHILD_NEED = re.compile(r"\b(?:enfants?|fils|filles?|b[ée]b[ée]s?|mineure?s?|ados?|adolescente?s?|petite?s?"
                         r"-(?:fils|fille|enfants?)|n[ée]e? en 20[0-2]\d|[ée]l[eè]ves?|coll[ée]gien(?:ne)?s?"
                         r"|lyc[ée]en(?:ne)?s?)\b", re.I)
_MINOR_TITLE = re.compile(r"\bmineure?s?\b", re.I)
_ADULT_TITLE = re.compile(r"\b(?:majeure?s?|adultes?)\b", re.I)


def age_group_of_need(text: str) -> str | None:
    """"adult" when the need names no child (the citizen asks for themselves); None
    when it does (the question may be the child's or the parent's)."""
    return None if _CHILD_NEED.search(text) else "adult"


def age_group_of_fiche(payload: dict) -> str | None:
    title = payload.get("title", "")
    if _MINOR_TITLE.search(title) and not _ADULT_TITLE.search(title):
        return "minor"
    return None


# A first request or a renewal: "Passeport d'un mineur : première demande" / "Renouvellement
# du passeport d'un mineur". A need says which by the document's state or its novelty.
_RENEWAL_NEED = re.compile(r"\b(?:renouvel\w*|p[ée]rim[ée]e?s?|expir[ée]e?s?|n['’]est plus valable|plus valides?"
                           r"|refaire|ancienne? (?:carte|passeport|permis))\b", re.I)
_FIRST_NEED = re.compile(r"\b(?:premi[eè]re? (?:demande|fois|passeport|carte)|jamais eu|pas encore (?:de|d['’])"
                         r"|nouveau-n[ée]e?|b[ée]b[ée]s?|vient de na[iî]tre|son propre|sa propre)\b", re.I)
_RENEWAL_TITLE = re.compile(r"\brenouvellement\b", re.I)
_FIRST_TITLE = re.compile(r"\bpremi[eè]re demande\b", re.I)


def request_of_need(text: str) -> str | None:
    """"renewal", "first" or None (neither said, or both)."""
    renewal, first = bool(_RENEWAL_NEED.search(text)), bool(_FIRST_NEED.search(text))
    return None if renewal == first else "renewal" if renewal else "first"


def request_of_fiche(payload: dict) -> str | None:
    return _first_named(payload.get("title", ""), ("renewal", _RENEWAL_TITLE), ("first", _FIRST_TITLE))


# Married or not: "Présomption de paternité (couple marié)" / "Reconnaissance d'un enfant
# (couple non marié)". A negation comes first: "on n'est ni mariés ni pacsés".
_UNMARRIED_NEED = re.compile(r"\b(?:(?:pas|ni|non|jamais) (?:[ée]t[ée] )?mari[ée]e?s?|n['’][ée]tions? pas mari[ée]e?s?"
                             r"|concubin\w*|union libre|en couple sans [êe]tre mari[ée]e?s?)\b", re.I)
_MARRIED_NEED = re.compile(r"\b(?:mon mari|ma femme|mon [ée]poux|mon [ée]pouse|(?:nous sommes|on est|je suis) mari[ée]e?s?)\b",
                           re.I)
_UNMARRIED_TITLE = re.compile(r"\b(?:couple non mari[ée]|non mari[ée]s|concubin\w*)\b", re.I)
_MARRIED_TITLE = re.compile(r"\bcouple mari[ée]\b", re.I)


def couple_of_need(text: str) -> str | None:
    return _first_named(text, ("unmarried", _UNMARRIED_NEED), ("married", _MARRIED_NEED))


def couple_of_fiche(payload: dict) -> str | None:
    return _first_named(payload.get("title", ""), ("unmarried", _UNMARRIED_TITLE), ("married", _MARRIED_TITLE))


# Who gives notice on a lease: "Préavis et formalités du congé donné par le locataire" /
# "… donné par le propriétaire (bailleur)". The landlord gives it when the need makes them
# the subject ("mon propriétaire m'a envoyé une lettre… il vend"); the tenant when the
# citizen gives or owes it, or wants to leave ("combien de préavis je dois donner à mon
# proprio"). Who the citizen is does not tell: a tenant asks about the landlord's notice.
_LANDLORD_GIVES_NEED = re.compile(
    r"\b(?:mon|ma|notre|le|la) (?:propri[ée]taire|proprio|bailleur|bailleresse)\b.{0,40}?"
    r"\b(?:m['’]a|nous a|vient de|veut|voudrait|a d[ée]cid[ée]|me demande|nous demande)\b.{0,80}?"
    r"\b(?:cong[ée]|pr[ée]avis|lettre|partir|quitter|vend\w*|r[ée]cup[ée]rer|reprendre|habiter)", re.I)
_TENANT_GIVES_NEED = re.compile(
    r"\b(?:pr[ée]avis|cong[ée])\b.{0,30}\b(?:je|j['’]|nous|on) (?:dois|doit|devons|dois-je|veux|voudrais|vais)\b"
    r"|\b(?:je|j['’]|nous|on) (?:dois|doit|devons|veux|voudrais|vais|souhaite|souhaitons)\w* (?:vraiment )?"
    r"(?:donner|envoyer|faire|poser|respecter)\b.{0,20}\b(?:pr[ée]avis|cong[ée])"
    r"|\bpartir plus (?:vite|t[ôo]t)|\bquitter (?:mon|notre|l['’]|le) (?:logement|appartement|appart|studio|maison)",
    re.I)
_TENANT_GIVES_TITLE = re.compile(r"\bcong[ée] donn[ée] par le locataire\b", re.I)
_LANDLORD_GIVES_TITLE = re.compile(r"\bcong[ée] donn[ée] par le (?:propri[ée]taire|bailleur)\b", re.I)


def notice_of_need(text: str) -> str | None:
    """"landlord", "tenant" or None: who gives the lease's notice in the need's words."""
    return _first_named(text, ("landlord", _LANDLORD_GIVES_NEED), ("tenant", _TENANT_GIVES_NEED))


def notice_of_fiche(payload: dict) -> str | None:
    return _first_named(payload.get("title", ""), ("tenant", _TENANT_GIVES_TITLE), ("landlord", _LANDLORD_GIVES_TITLE))


# The documents a need is about ("une copie de mon bac", "ma CNI") against the document a
# fiche's title names ("Perte, vol ou détérioration de la carte grise"): a fiche about
# another document answers another question, however many words it shares.
_DOCUMENTS = (
    ("identity_card", re.compile(r"\b(?:cartes? d['’]identit[ée]|cni)\b", re.I)),
    ("passport", re.compile(r"\bpasseports?\b", re.I)),
    ("driving_licence", re.compile(r"\bpermis(?! (?:de |d['’])(?:construire|am[ée]nager|d[ée]molir|chasser|visite|port))\b",
                                   re.I)),
    ("registration", re.compile(r"\b(?:cartes? grises?|certificats? d['’]immatriculation)\b", re.I)),
    ("diploma", re.compile(r"\b(?:dipl[ôo]mes?|bac|baccalaur[ée]at|brevet des coll[èe]ges)\b", re.I)),
    ("residence_permit", re.compile(r"\b(?:titres? de s[ée]jour|cartes? de s[ée]jour|cartes? de r[ée]sident)\b", re.I)),
    ("health_card", re.compile(r"\bcartes? vitales?\b", re.I)),
    ("family_record_book", re.compile(r"\blivrets? de famille\b", re.I)),
    ("criminal_record", re.compile(r"\bcasiers?(?: judiciaires?)?\b", re.I)),
    ("bank_card", re.compile(r"\bcartes? (?:bancaires?|bleues?)\b", re.I)),
)


def documents_of_need(text: str) -> str | None:
    """The documents a text names ("identity_card|driving_licence"), None if none."""
    return "|".join(name for name, pattern in _DOCUMENTS if pattern.search(text)) or None


def documents_of_fiche(payload: dict) -> str | None:
    return documents_of_need(payload.get("title", ""))


def shares_a_document(need: str, fiche: str) -> bool:
    return bool(set(need.split("|")) & set(fiche.split("|")))


def _first_named(text: str, *values: tuple[str, re.Pattern]) -> str | None:
    """The first value whose pattern the text matches (the order decides between them)."""
    return next((value for value, pattern in values if pattern.search(text)), None)


AXES = (
    Axis("sector", sector_of_need, sector_of_fiche),
    Axis("residence", residence_of_need, residence_of_fiche),
    Axis("age", age_group_of_need, age_group_of_fiche),
    Axis("request", request_of_need, request_of_fiche),
    Axis("couple", couple_of_need, couple_of_fiche),
    Axis("notice", notice_of_need, notice_of_fiche),
    Axis("document", documents_of_need, documents_of_fiche, shares_a_document),
)


def situation_of_need(text: str) -> dict[str, str]:
    """The value of each axis the need's words tell."""
    return {axis.name: value for axis in AXES if (value := axis.of_need(text)) is not None}


def missed_axes(payload: dict, situation: dict[str, str]) -> int:
    """On how many axes a fiche (its payload: title, source) is written for another
    value than the need's `situation` (situation_of_need)."""
    missed = 0
    for axis in AXES:
        if axis.name in situation and (value := axis.of_fiche(payload)) is not None:
            missed += not axis.fits(situation[axis.name], value)
    return missed


def with_situation(ranking: list[tuple[str, float]], head: dict[str, dict],
                   situation: dict[str, str]) -> list[tuple[str, float]]:
    """`ranking` with its first fiches (`head`: their payloads, best first) scored
    MISMATCH_FACTOR lower for each axis on which they are written for another value
    than the need's (`situation`, situation_of_need)."""
    rescored = [(fiche_id, score * MISMATCH_FACTOR ** missed_axes(head[fiche_id], situation) if fiche_id in head
                 else score) for fiche_id, score in ranking]
    return sorted(rescored, key=lambda item: -item[1])
