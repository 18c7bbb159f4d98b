"""Reading a citizen's e-mail into search needs: each question with the situation it depends on.

Citizens tell their situation first and ask last ("Mon compagnon est décédé en janvier…
Est-ce que je peux toucher une partie de sa retraite ?"), ask follow-ups that mean
nothing alone ("C'est possible ?", "Qu'est-ce que je dois faire ?"), write without
question marks ("Je voudrais connaître la procédure pour…") and without accents. The
rule-based reader turns the cleaned message (generation.message) into `Need`s:

- a *question* is a sentence ending with "?", a request ("je voudrais savoir…",
  "pouvez-vous m'indiquer…") or an interrogative opening ("Comment faire pour…");
- a question with too few words of its own (a follow-up) is merged with the question
  before it, or, first of all, read with the sentence before it;
- its *situation* is the statements told before it since the previous question, plus
  the opening statements of the message (who writes, what happened), nearest first;
- near-duplicate questions are dropped; at most `max_needs`, the rest merged in the last.

The search text of a need (`Need.query`) is the question followed by its situation:
what a person would type after reading the whole e-mail. Nothing here is logged.
"""

from __future__ import annotations

import re

from generation.text import collapse_spaces, content_tokens, fold, jaccard, split_paragraph
from generation.types import Need
from retrieval.search.situation import lives_abroad as says_lives_abroad

REQUEST_PATTERNS = re.compile(
    r"\b(?:je (?:voudrais|souhaiterais|souhaite|aimerais|veux|désire|desire)"
    r"(?: aussi| également| egalement| donc| bien)?"
    r" (?:savoir|connaître|connaitre|comprendre|être informée?|etre informée?|avoir des informations"
    r"|des informations|des précisions|des precisions|un renseignement|des renseignements)"
    r"|(?:pouvez|pourriez|pourrez)[- ]vous (?:me |m')?(?:dire|indiquer|expliquer|préciser|preciser|"
    r"informer|renseigner|aider|confirmer|éclairer|eclairer)"
    r"|merci de (?:me |m')?(?:dire|indiquer|préciser|preciser|expliquer|renseigner|confirmer)"
    r"|j'aimerais (?:aussi |également |egalement )?(?:savoir|connaître|connaitre|comprendre)"
    r"|(?:quelles?|quels?) (?:sont|est) (?:les|la|le|mes|mon|ma)"
    r"|comment (?:faire|puis-je|dois-je|obtenir|demander|on fait|je fais|je peux|je dois)"
    r"|est[- ]ce qu|ai-je droit|dois-je|puis-je|peut-on|faut-il"
    # an indirect question: "nous ne savons pas si nous allons devoir payer…"
    r"|(?:je ne sais pas|je ne sais plus|nous ne savons pas|on ne sait pas|j'ignore|je me demande"
    r"|nous nous demandons|on se demande) (?:si|s'il|s'ils|comment|combien|quand|où|quel|quelle|quels"
    r"|quelles|qui|pourquoi|ce qu))",
    re.IGNORECASE,
)
_INTERROGATIVE_START = re.compile(
    r"^(?:et |mais |sinon |aussi |autre question\W+|dernière chose\W+|derniere chose\W+)?"
    r"(?:comment|combien|pourquoi|quand|où|ou est|quel|quelle|quels|quelles|qui|que |qu'|"
    r"est[- ]ce|peut-on|puis-je|dois-je|faut-il|y a-t-il|a-t-on|ai-je)\b",
    re.IGNORECASE,
)
# Words that say nothing about the subject: a question made of them only is a follow-up.
GENERIC_WORDS = set(
    """
    possible vrai normal normalement legal légal droit droits faire fait fais dois doit
    peux peut pouvez pourrai pourrais obligé obligée obligés obligatoire oblige quoi chose
    choses moyen moyens solution solutions démarche démarches demarche demarches comment
    combien quand question questions cas ça cela ceci alors aussi encore vraiment quelque
    quelqu quelqu'un rien tout bien autant maintenant après apres avant ensuite là la-bas
    là-bas ici oui non besoin falloir faut sais savoir aimerais voudrais souhaite merci
    comme ainsi vous nous je moi on il elle ils elles leur lui payant gratuit avoir être etre aller
    """.split()
)
_GENERIC_FOLDED = {fold(w) for w in GENERIC_WORDS}
# A line that opens on one of these after a question raises a new point even without "?":
# "En plus on fait souvent 42 heures… Il n'y a pas d'accord dans la boîte."
_NEW_POINT = re.compile(
    r"^(?:en plus|de plus|aussi|autre question|autre chose|par ailleurs|d'autre part|dernière chose"
    r"|derniere chose|enfin|et puis)\b",
    re.IGNORECASE,
)
_MIN_OWN_WORDS = 2  # a question needs this many subject words of its own to stand alone
_DUPLICATE_JACCARD = 0.75
_SITUATION_SENTENCES = 4
_CLOSING_SENTENCE = re.compile(
    r"^(?:(?:un )?grand )?merci(?:\s|$|[ ,.!]|\s+(?:d'avance|par avance|beaucoup|pour|de votre|de vos|à vous))"
    r"|^(?:bien |très |tres )?cordialement|^bien à vous|^salutations|^bonne (?:journée|soirée)"
    r"|^je vous remercie|^en vous remerciant|^dans l'attente|^veuillez agréer|^avec mes remerciements",
    re.IGNORECASE,
)


# A line a mail client wrapped: long, and cut where no sentence ends ("… je viens de
# trouver un" / "CDI a Lille…", "… je dois donner a" / "mon proprio ?").
_WRAPPED_MIN_CHARS = 40
_UNFINISHED_END = re.compile(r"(?:^|\s)(?:un|une|le|la|les|l'|de|des|du|d'|à|a|au|aux|en|et|ou|pour|par|sur|dans|avec"
                             r"|sans|chez|mon|ma|mes|ton|ta|tes|son|sa|ses|notre|nos|votre|vos|ce|cet|cette|ces"
                             r"|que|qu'|je|j'|ne|n'|mais)$", re.I)
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")
_ENDS_PUNCTUATED = re.compile(r"[.!?…:;,»)\]]$")


def unwrapped_lines(text: str) -> list[str]:
    """The message's lines, a line that a mail client wrapped joined to the next one: it
    is long, ends with no punctuation, and ends on a word no sentence ends with (an
    article, a preposition…) or is followed by a line in lower case that is not a
    closing ("merci d'avance")."""
    lines: list[str] = []
    for line in text.split("\n"):
        previous = lines[-1].rstrip() if lines else ""
        wrapped = len(previous) >= _WRAPPED_MIN_CHARS and not _ENDS_PUNCTUATED.search(previous)
        if wrapped and line.strip() and not _LIST_MARK.match(line) and not is_closing(line.strip()) \
                and (_UNFINISHED_END.search(previous) or line.lstrip()[:1].islower()):
            lines[-1] = f"{previous} {line.strip()}"
        else:
            lines.append(line)
    return lines


def sentences_of(text: str) -> list[tuple[int, str]]:
    """(line number, sentence) for each sentence of the cleaned message (its wrapped
    lines joined: unwrapped_lines)."""
    found = []
    for number, line in enumerate(unwrapped_lines(text)):
        for span in split_paragraph(collapse_spaces(line)):
            for piece in _split_after_question_marks(span.text):
                found.append((number, piece))
    return found


def _split_after_question_marks(sentence: str) -> list[str]:
    """"… ? et pour …" is two sentences even when the second starts in lower case."""
    parts = re.split(r"(?<=\?)\s+(?=\S)", sentence)
    return [p.strip() for p in parts if p.strip()]


def is_question(sentence: str) -> bool:
    stripped = sentence.strip()
    if stripped.endswith("?") or REQUEST_PATTERNS.search(stripped):
        return True
    # "Comment faire pour…" without its "?"; "Quand je l'emmène…, je ne trouve…." is a statement.
    return bool(_INTERROGATIVE_START.match(stripped)) and not stripped.endswith((".", "!", "…"))


def is_closing(sentence: str) -> bool:
    """"Merci d'avance.", "Cordialement, Luc": not "Merci de m'indiquer les pièces…"."""
    return bool(_CLOSING_SENTENCE.match(sentence)) and not is_question(sentence)


def own_words(sentence: str) -> list[str]:
    """The subject words of a sentence: content words that are not generic."""
    kept = []
    for word in re.findall(r"[\wÀ-ÿ'’-]+", sentence.lower()):
        for part in re.split(r"['’]", word):
            if len(part) > 2 and fold(part) not in _GENERIC_FOLDED and content_tokens(part):
                kept.append(part)
    return kept


def read_needs(text: str, max_needs: int = 3) -> list[Need]:
    """The search needs of a cleaned message (greeting, signature and quotes removed)."""
    sentences = [(line, s) for line, s in sentences_of(text) if not is_closing(s)]
    if not sentences:
        return []
    groups = _question_groups(sentences)
    if not groups:  # no question at all: the whole message is the need
        whole = collapse_spaces(" ".join(s for _, s in sentences))[:1000]
        return [Need(question=whole, situation=[], asked=False)]
    needs = [_need(sentences, group) for group in groups]
    needs = _without_duplicates(needs)
    if len(needs) > max_needs:
        needs = needs[: max_needs - 1] + [_merge_needs(needs[max_needs - 1 :])]
    return needs


def _question_groups(sentences: list[tuple[int, str]]) -> list[list[int]]:
    """Indices of the sentences that make each question (a follow-up joins the one before)."""
    groups: list[list[int]] = []
    for index, (_, sentence) in enumerate(sentences):
        if not is_question(sentence):
            if groups and (line := _implicit_question(sentences, index)):
                groups.append(line)
            continue
        if len(own_words(sentence)) >= _MIN_OWN_WORDS:
            groups.append([index])
            continue
        if groups and groups[-1][-1] >= index - 2:  # "… ? C'est payant ?" right after a question
            groups[-1].append(index)
        elif index > 0 and not is_question(sentences[index - 1][1]):
            groups.append([index - 1, index])  # "On aimerait se marier là-bas. C'est possible ?"
        else:
            groups.append([index])
    return groups


def _implicit_question(sentences: list[tuple[int, str]], index: int) -> list[int]:
    """The sentences of a line that raises a new point without a question, when
    `index` opens such a line; else []."""
    line, sentence = sentences[index]
    if (index > 0 and sentences[index - 1][0] == line) or not _NEW_POINT.match(sentence):
        return []
    same_line = [i for i in range(index, len(sentences)) if sentences[i][0] == line]
    if any(is_question(sentences[i][1]) for i in same_line):
        return []
    return same_line


def _need(sentences: list[tuple[int, str]], group: list[int]) -> Need:
    question = " ".join(sentences[i][1] for i in group)
    return Need(question=question, situation=_situation(sentences, group))


def _situation(sentences: list[tuple[int, str]], group: list[int]) -> list[str]:
    """Statements before the question since the previous one, nearest first, then the
    message's opening statements."""
    first = group[0]
    before = []
    for index in range(first - 1, -1, -1):
        if is_question(sentences[index][1]):
            break
        before.append(sentences[index][1])
    opening = []
    for _, sentence in sentences[:first]:
        if is_question(sentence):
            break
        opening.append(sentence)
    situation = list(dict.fromkeys(before + opening))
    return [s for s in situation if s not in {sentences[i][1] for i in group}][:_SITUATION_SENTENCES]


def _without_duplicates(needs: list[Need]) -> list[Need]:
    kept: list[Need] = []
    for need in needs:
        tokens = set(content_tokens(need.question))
        if any(jaccard(tokens, content_tokens(k.question)) >= _DUPLICATE_JACCARD for k in kept):
            continue
        kept.append(need)
    return kept


def _merge_needs(needs: list[Need]) -> Need:
    question = " ".join(n.question for n in needs)
    situation = list(dict.fromkeys(s for n in needs for s in n.situation))[:_SITUATION_SENTENCES]
    return Need(question=question, situation=situation)




# Words of an e-mail that never decide between fiches: time, hedges, intensity.
FILLER_WORDS = set(
    """
    enfin bref crois pense sais voila voilà hier demain aujourd'hui matin soir semaine dernier derniere
    dernière prochain prochaine samedi dimanche lundi mardi mercredi jeudi vendredi janvier fevrier février
    mars avril mai juin juillet aout août septembre octobre novembre decembre décembre an ans mois jour jours
    fois depuis peur vraiment encore toujours déjà deja beaucoup petit petite gros grosse vieux vieille truc
    gentiment rien plus moins madame monsieur bonjour merci svp stp
    """.split()
)
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")
_UNDECIDING_FOLDED = _GENERIC_FOLDED | {fold(w) for w in FILLER_WORDS}


def keyword_query(need: Need) -> str:
    """The need's deciding words, once each: no stopwords, generic or filler words,
    numbers, masked data or proper names (capitalised inside a sentence), so that the
    situation's noise ("à Rome pour la Toussaint") does not drown the subject."""
    text = _PLACEHOLDER.sub(" ", " ".join([need.question, *need.situation]))
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        for position, word in enumerate(re.findall(r"[\wÀ-ÿ'’-]+", sentence)):
            for part in re.split(r"['’]", word):
                if len(part) < 3 or any(c.isdigit() for c in part) or all(
                    fold(piece) in _UNDECIDING_FOLDED or not content_tokens(piece) for piece in part.split("-")
                ):
                    continue  # "peut-elle", "est-ce" are as generic as their pieces
                if position > 0 and part[0].isupper() and not part.isupper():
                    continue  # a name or a place; acronyms (CNI, CAF) stay
                if content_tokens(part):
                    kept.append(part.lower() if not part.isupper() else part)
    return " ".join(dict.fromkeys(kept))


# The citizen's own age, told in the present: "J'ai 73 ans", "je suis âgée de 78 ans"; not
# "j'avais 34 ans" (then), not "mon fils de 15 ans" (someone else's).
_OWN_AGE = re.compile(r"(?<![\w'’])(?:j['’]ai|je suis (?:âgée?|agée?) de|je vais avoir|j['’]aurai)\s+(\d{1,3})\s*ans\b", re.I)


def citizen_age(need: Need) -> int | None:
    """The age the citizen says they are, if they say it (question or situation)."""
    for text in [need.question, *need.situation]:
        if (found := _OWN_AGE.search(text)) and 0 < int(found.group(1)) < 120:
            return int(found.group(1))
    return None


def lives_abroad(need: Need) -> bool:
    """The citizen says they live outside France (question or situation)."""
    return any(says_lives_abroad(text) for text in [need.question, *need.situation])


def formulations(need: Need, *, follow_up: bool = False) -> list[str]:
    """The phrasings a need is searched with, main one first: the question with its
    situation, its deciding words, and the question alone when it stands alone.

    `follow_up`: a question after the message's first one. Its deciding words are its
    own, not its situation's: that is mostly the story told for the first question, whose
    words pulled the follow-up's search to the first question's fiche (development
    e-mails, later questions: hit@1 0.44 -> 0.56, MRR@10 0.60 -> 0.68; README,
    "Measured figures")."""
    queries = [need.query]
    keywords = keyword_query(Need(question=need.question) if follow_up else need)
    if keywords and keywords not in queries:
        queries.append(keywords)
    if need.situation and len(own_words(need.question)) >= _MIN_OWN_WORDS and need.question not in queries:
        queries.append(need.question)
    return queries


# Citizens drop the hyphens ("que faut il faire", "dois je"): both spellings are read.
_KINDS = [
    ("duration", re.compile(r"\b(?:combien de (?:temps|jours|mois|semaines|ans|années)|quel délai|quel delai|délai"
                            r"|delai|jusqu'à quand|jusqu'a quand|à partir de quand|a partir de quand"
                            r"|quand(?! m[eê]me)|durée|duree|au bout de combien"
                            # a delay told in everyday words: "il a le droit de traîner autant ?"
                            r"|aussi tard|si tard|trop tard|en retard|tra[iî]ner|tarder|toujours pas)\b", re.I)),
    ("amount", re.compile(r"\b(?:combien|montant|coût|cout|coute|coûte|prix|tarif|payant|gratuit|minimum|maximum"
                          r"|quel pourcentage|taux)\b", re.I)),
    ("place", re.compile(r"\b(?:où|ou faut|à qui|a qui|qui (?:peut|doit|contacter)|auprès de qui|aupres de qui"
                         r"|quel (?:service|organisme|bureau)|m'adresser|m'adresse)\b|\bet (?:o[uù])\s*\?", re.I)),
    ("procedure", re.compile(r"\b(?:comment|quelles? (?:démarches?|demarches?|formalités?|formalites?|papiers?"
                             r"|documents?|pièces?|pieces?)|que (?:dois[- ]je|faut[- ]il|faire)|qu'est[- ]ce (?:que|qu'il)"
                             r" (?:je dois|je peux|il faut|on doit|on peut|faut)? ?faire|procédure|procedure)\b", re.I)),
    # "Est-ce que je peux… ?" asks whether; "Qu'est-ce que le suivi renforcé ?" asks what.
    ("permission", re.compile(r"\b(?:puis[- ]je|peut[- ]on|peut[- ]il|peut[- ]elle|peuvent|peut|doit|(?<!qu')(?<!qu’)est[- ]ce qu\w*"
                              r"|dois[- ]je|faut[- ]il"
                              r"|obligée?s?|obligatoire|a le droit|ai le droit|le droit|possible|légal|legal"
                              r"|je peux|on peut|il peut|elle peut)\b", re.I)),
]
# The asks of one question are its clauses: "Comment je l'obtiens et ça prend combien de
# temps ?" asks for the steps and for a duration.
_CLAUSES = re.compile(r"\s*(?:[,;?]|\bet\b|\bpuis\b)\s*", re.I)
# The kinds answered by a fact a sentence states: what a clause can ask beside the
# question's main kind ("permission", the rule, is the main kind of most questions and is
# in nearly every sentence of a fiche).
FACT_KINDS = ("duration", "amount", "place", "procedure")


def question_kind(question: str) -> str:
    """What a question asks for: duration, amount, place, procedure, permission, or other."""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return "other"


def question_kinds(question: str) -> list[str]:
    """Everything a question asks for, its main kind (question_kind) first, then what
    its other clauses ask: ["procedure", "duration"] for "Comment faire et quand ?"."""
    kinds = [question_kind(question)]
    for clause in _CLAUSES.split(question):
        kind = question_kind(clause)
        if kind in FACT_KINDS and kind not in kinds:
            kinds.append(kind)
    return kinds
