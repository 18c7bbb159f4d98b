"""Extractive drafts: French sentence splitting, candidate units, cited and verified
answers to multi-question e-mails."""

import pytest

from generation.extractive import ExtractiveDrafter, candidates_of, clean_markdown, condition_phrase, negated_words
from generation.format import CLOSING, GREETING
from generation.message import parse_message
from generation.settings import GenerationSettings
from generation.text import renumber_citations, split_sentences
from generation.types import DraftFormat, Need, Verdict
from generation.verify import verify
from retrieval.types import Passage


def test_french_sentence_splitting_keeps_abbreviations_amounts_lists_and_tables():
    text = (
        "Le montant est de 1 000,50 € par mois (art. L. 123-4 du code). M. Dupont doit payer. "
        "Le formulaire n° 12345*02 est disponible, cf. annexe. Le taux est de 2,5 %.\n\n"
        "Pièces à fournir :\n- une pièce d'identité\n- un justificatif de domicile.\n\n"
        "| Âge | Montant |\n|---|---|\n| 18 ans | 1 500 € |\n\n"
        "> **À noter** : depuis le 1er janvier 2024, la règle change. Elle s'applique à tous."
    )
    sentences = [s.text for s in split_sentences(text)]
    assert sentences == [
        "Le montant est de 1 000,50 € par mois (art. L. 123-4 du code).",
        "M. Dupont doit payer.",
        "Le formulaire n° 12345*02 est disponible, cf. annexe.",
        "Le taux est de 2,5 %.",
        "Pièces à fournir :",
        "- une pièce d'identité",
        "- un justificatif de domicile.",
        "| Âge | Montant |",
        "|---|---|",
        "| 18 ans | 1 500 € |",
        "> **À noter** : depuis le 1er janvier 2024, la règle change.",
        "Elle s'applique à tous.",
    ]
    for span in split_sentences(text):
        assert text[span.start : span.end] == span.text


def test_two_sentences_the_fiche_left_without_a_space_are_two_sentences():
    text = "Votre employeur sera jugé pour ne pas vous avoir protégé.Par exemple, vous pouvez le poursuivre. " \
           "Consultez service-public.fr. Voir M.Dupont, etc.Le reste suit."
    sentences = [s.text for s in split_sentences(text)]
    assert sentences == ["Votre employeur sera jugé pour ne pas vous avoir protégé.",
                         "Par exemple, vous pouvez le poursuivre.", "Consultez service-public.fr.",
                         "Voir M.Dupont, etc.Le reste suit."]
    for span in split_sentences(text):
        assert text[span.start : span.end] == span.text


def test_list_intros_carry_their_items_and_table_rows_their_headers(handmade_passages):
    by_id = {p.chunk.id: p for p in handmade_passages}
    amounts = [c.text for c in candidates_of(by_id["F1878#2"], 3)]
    assert amounts[0].startswith("Le montant de l'ARS dépend de l'âge de l'enfant : 416,40 € pour un enfant")
    assert "454,60 € pour un enfant de 15 à 18 ans" in amounts[0]
    ceilings = [c.text for c in candidates_of(by_id["F1878#1"], 2)]
    assert "Plafond de ressources (2 enfants) : 32 158 €" in ceilings


def test_a_table_s_title_is_not_a_sentence_and_wider_rows_keep_every_heading():
    table = passage("F9", ["Délais"], "Délais pour demander l'échange du permis étranger contre un permis français\n\n"
                    "| Situation | Délai | Où |\n|---|---|---|\n"
                    "| Titulaire d'une 1re carte de séjour | Moins d'1 an | En ligne |\n", 1, title="Échange du permis")
    texts = [c.text for c in candidates_of(table, 1)]
    assert texts == ["Situation : Titulaire d'une 1re carte de séjour ; Délai : Moins d'1 an ; Où : En ligne"]


EMAILS = [
    (
        "Bonjour,\nMon fils a 16 ans et il est au lycée. Est-ce que je peux toucher l'allocation de rentrée "
        "scolaire pour lui ? Quel est le montant de l'ARS pour un enfant de 15 à 18 ans ?\n"
        "Je voudrais aussi savoir comment faire une carte d'identité pour un mineur.\nCordialement,\nMme Petit",
        {"F1878", "F1342"},
    ),
    (
        "Madame, Monsieur,\nJe suis enceinte de mon troisième enfant. Combien de semaines dure le congé de "
        "maternité ? Qui verse les indemnités journalières et quel est leur montant ?\nMerci d'avance",
        {"F2208"},
    ),
    (
        "Bonjour, j'ai perdu des points sur mon permis de conduire. Comment récupérer mes points ? "
        "Un stage de sensibilisation permet-il de récupérer des points ? Merci",
        {"F1234"},
    ),
]


@pytest.mark.parametrize("message, fiches", EMAILS)
def test_multi_question_emails_get_cited_and_verified_answers(message, fiches, handmade_passages):
    questions = parse_message(message).questions
    assert len(questions) >= 2
    text = ExtractiveDrafter().write(questions, handmade_passages)
    assert text.startswith(GREETING) and text.rstrip().endswith(CLOSING)
    checks = verify(text, handmade_passages)
    claims = [c for c in checks if c.verdict != Verdict.NOT_A_CLAIM]
    assert len(claims) >= len(questions)
    assert [c for c in checks if c.flagged] == []
    assert all(c.citations and c.support for c in claims)
    cited_fiches = {handmade_passages[n - 1].fiche_id for c in claims for n in c.citations}
    assert fiches <= cited_fiches


def test_each_question_gets_its_own_answer_without_repeats(handmade_passages):
    questions = ["Combien de semaines dure le congé de maternité ?", "Quel est le montant des indemnités journalières ?"]
    body = ExtractiveDrafter().write_body(questions, handmade_passages)
    first, second = body.split("\n\n")
    assert "16 semaines" in first and "95,22 €" in second
    sentences = [s.text for s in split_sentences(body, line_breaks=True)]
    assert len(sentences) == len(set(sentences))


def test_short_format_has_no_greeting_or_closing(handmade_passages):
    text = ExtractiveDrafter().write(["Quelle est la durée de validité de la carte d'identité d'un mineur ?"],
                                     handmade_passages, format=DraftFormat.SHORT)
    assert not text.startswith(GREETING) and "Cordialement" not in text
    assert "valable 10 ans [" in text


def test_no_passages_gives_an_empty_body():
    assert ExtractiveDrafter().write_body(["Une question ?"], []) == ""


def test_many_repeated_passages_still_give_one_cited_answer_per_question(handmade_passages):
    # Speed is measured by the benchmarks in evals/, not here: this checks what 27
    # passages (more than the service ever sends, each text three times) produce.
    passages = handmade_passages * 3
    passages = [Passage(p.chunk, p.score, i) for i, p in enumerate(passages, 1)]
    questions = parse_message(EMAILS[0][0]).questions
    body = ExtractiveDrafter().write_body(questions, passages)
    sentences = [s.text for s in split_sentences(body, line_breaks=True)]
    assert len(sentences) == len(set(sentences))  # a text seen three times is said once
    checks = verify(body, passages)
    assert [c for c in checks if c.flagged] == []
    assert all(1 <= n <= len(passages) for c in checks for n in c.citations)


# --- composition: answer first, conditions not breadcrumbs, no guide voice -----------

def passage(fiche_id: str, path: list[str], body: str, number: int = 1, title: str = "Aide au logement") -> Passage:
    from ingest.model import Chunk

    breadcrumb = [title, *path]
    chunk = Chunk(id=f"{fiche_id}#{number}", fiche_id=fiche_id, index=number, text=f"{' > '.join(breadcrumb)}\n{body}",
                  breadcrumb=breadcrumb, title=title, url=f"https://www.service-public.fr/particuliers/vosdroits/{fiche_id}",
                  date="2020-06-01", type="Fiche d'information", audiences=["particuliers"], themes=[],
                  words=len(body.split()))
    return Passage(chunk, 1.0, number)


COUPLE = passage("F1", ["Vous vivez en couple (mariage, Pacs, concubinage)", "Revenus maximum"],
                 "Pour un couple, les revenus ne doivent pas dépasser 16 000 € par an pour toucher l'aide.", 1)
ALONE = passage("F1", ["Vous vivez seul", "Revenus maximum"],
                "Les revenus ne doivent pas dépasser 10 000 € par an pour toucher l'aide.", 2)


def draft_of(question: str, passages: list[Passage], situation: list[str] = ()) -> str:
    need = Need(question=question, situation=list(situation))
    return ExtractiveDrafter().write_body([question], passages, needs=[need])


def test_cases_become_french_conditions_never_breadcrumbs():
    body = draft_of("Quels revenus maximum pour toucher l'aide ?", [COUPLE, ALONE], ["Je vis seule depuis mon divorce."])
    assert " > " not in body
    assert body.startswith("Si vous vivez seul, les revenus ne doivent pas dépasser 10 000 €")


def test_a_heading_inside_a_chunk_replaces_the_one_of_its_level_even_below_a_short_breadcrumb():
    body = ("##### Cas : Vous êtes locataire\n\nLe locataire paie la taxe d'habitation du logement.\n\n"
            "##### Cas : Vous êtes propriétaire\n\n###### Logement loué\n\nLe propriétaire ne paie pas la taxe "
            "d'habitation du logement loué.")
    tenant, owner = candidates_of(passage("F42", ["Qui doit payer ?"], body), 1)
    assert tenant.path == ("Aide au logement", "Qui doit payer ?", "Cas : Vous êtes locataire")
    assert owner.path == ("Aide au logement", "Qui doit payer ?", "Cas : Vous êtes propriétaire", "Logement loué")


def test_a_passage_of_a_fiche_written_for_another_situation_does_not_open_the_answer():
    for_a_minor = passage("F1035", [], "Le responsable doit exercer l'autorité parentale pour demander un passeport "
                          "temporaire en urgence.", 1, title="Passeport en urgence : passeport temporaire pour un mineur")
    for_an_adult = passage("F1373", [], "Un passeport temporaire peut être délivré en urgence pour un motif "
                           "médical ou humanitaire.", 2, title="Passeport en urgence : passeport temporaire pour un majeur")
    question = "Il n'y a aucun moyen d'avoir un passeport en urgence ? Mon pere est hospitalisé a Alger."
    assert draft_of(question, [for_a_minor, for_an_adult]).startswith("Un passeport temporaire peut être délivré")
    # A parent asking for their child: the minor's fiche is theirs.
    assert draft_of(question.replace("Mon pere", "Mon fils de 8 ans"), [for_a_minor, for_an_adult]).startswith(
        "Le responsable doit exercer l'autorité parentale")


def test_the_fact_asked_comes_from_another_fiche_when_the_answers_fiche_does_not_state_it():
    rule = passage("F1168", [], "Le locataire peut quitter le logement en donnant congé au propriétaire, sous certaines "
                   "conditions de délai de préavis. Le délai de préavis court à partir de la réception de la lettre "
                   "recommandée par le propriétaire.", 1, title="Préavis et formalités du congé donné par le locataire")
    month = passage("F32360", ["Logement vide", "Cas : Logement en zone tendue"],
                    "Le préavis applicable en cas de départ du locataire est de 1 mois.", 2,
                    title="Comment calculer le délai de préavis en cas de congé donné par le locataire ?")
    body = draft_of("Combien de temps de preavis je dois donner a mon proprio ?", [rule, month],
                    ["Je suis locataire d'un appartement vide a Nantes."])
    assert body.startswith("Le locataire peut quitter le logement en donnant congé")
    assert "Dans le cas « Logement en zone tendue », le préavis applicable en cas de départ du locataire est de " \
           "1 mois [2]." in body


BIRTH_ABROAD = passage("F961", ["Naissance à l'étranger", "Délai"],
                       "La déclaration doit être faite dans les 15 jours qui suivent le jour de l'accouchement.", 1,
                       title="Déclaration de naissance")
BIRTH_IN_FRANCE = passage("F961", ["Naissance en France", "Délai"],
                          "La déclaration doit être faite dans les 5 jours qui suivent le jour de l'accouchement.", 2,
                          title="Déclaration de naissance")


def test_a_section_about_abroad_does_not_answer_a_citizen_who_speaks_of_nothing_abroad():
    question = "On a combien de jours pour declarer le bébé a la mairie ?"
    # The search ranked the section about abroad first; France is the citizen's case and
    # goes without saying, abroad is stated as the condition it is.
    assert draft_of(question, [BIRTH_ABROAD, BIRTH_IN_FRANCE]).startswith(
        "La déclaration doit être faite dans les 5 jours qui suivent le jour de l'accouchement [2].")
    assert draft_of(question, [BIRTH_ABROAD, BIRTH_IN_FRANCE], ["Nous vivons à l'étranger, au Canada."]).startswith(
        "Dans le cas « Naissance à l'étranger », la déclaration doit être faite dans les 15 jours")


def test_a_sentence_repeated_under_two_sections_is_said_once_in_the_draft():
    repeated = "Le père peut reconnaître son enfant dans les 2 mois qui suivent la naissance."
    first = passage("F3136", ["Reconnaissance par le père"],
                    f"{repeated} La démarche se fait à la mairie du lieu de naissance de l'enfant.", 1,
                    title="Accouchement sous X")
    second = passage("F887", ["Reconnaissance par le père"],
                     f"{repeated} Un acte de reconnaissance est rédigé par l'officier d'état civil.", 2,
                     title="Reconnaissance d'un enfant")
    needs = [Need(question="Le père peut-il reconnaître son enfant après la naissance ?"),
             Need(question="Dans quel délai le père peut-il reconnaître son enfant après la naissance ?")]
    body = ExtractiveDrafter().write_body([n.question for n in needs], [first, second], needs=needs,
                                          groups=[[1, 2], [2, 1]])
    assert body.count("dans les 2 mois qui suivent la naissance") == 1


def _public_service_passage(situation: str, number: int, body: str) -> Passage:
    from dataclasses import replace

    chunk = passage("F434", [situation, "Concours externe"], body, number, title="Concours de la fonction publique").chunk
    return Passage(replace(chunk, situation=situation), 1.0, number)


def test_a_fiche_s_situation_is_a_condition_unless_the_same_rule_stands_under_another_one():
    common = "Pour passer un concours externe de catégorie C, vous devez avoir un diplôme de niveau V ou VI."
    own = "L'employeur organise le concours externe au niveau de chaque hôpital."
    hospital = _public_service_passage("Hospitalière (FPH)", 1, f"{common} {own}")
    state = _public_service_passage("Fonction publique d'État (FPE)", 2, common)
    local = _public_service_passage("Territoriale (FPT)", 3, common)
    body = draft_of("Quel diplome faut-il pour un concours de categorie C ?", [hospital, state, local])
    # FPH, FPE and FPT repeat their common rules: stated as a condition of one, it would
    # tell the citizen the other services ask something else.
    assert body.startswith(f"{common[:-1]} [1].")
    assert "Dans le cas « Hospitalière (FPH) », l'employeur organise le concours externe" in body
    # Under two cases only, a rule is theirs, not everyone's.
    assert draft_of("Quel diplome faut-il pour un concours de categorie C ?", [hospital, state]).startswith(
        f"Dans le cas « Hospitalière (FPH) », {common[0].lower()}{common[1:-1]} [1].")
    alone = draft_of("Qui organise le concours externe a l'hopital ?", [hospital])
    assert alone.startswith("Dans le cas « Hospitalière (FPH) », l'employeur organise le concours externe"), alone


def test_the_case_that_matches_the_situation_opens_the_answer():
    body = draft_of("Quels revenus maximum pour toucher l'aide ?", [ALONE, COUPLE], ["Nous sommes pacsés."])
    assert body.startswith("Si vous vivez en couple (mariage, Pacs, concubinage), pour un couple")


@pytest.mark.parametrize("label, phrase", [
    ("Cas : Vous êtes locataire", "Si vous êtes locataire, "),
    ("Salarié du secteur privé", "Si vous êtes salarié du secteur privé, "),
    ("Pour un mineur", "Pour un mineur, "),
    ("Cas général", ""),
    ("Cas général (Caf)", ""),
    ("Location meublée", "Dans le cas « Location meublée », "),
    ("Quand faire le 1er contrôle ?", ""),  # a question heading, not a case
    ("Cas : Établissement ouvert le dimanche (ex : commerce de bricolage, fleuriste...)",
     "Dans le cas « Établissement ouvert le dimanche », "),  # the label's examples left out
    ("Zone touristique (ZT)", "Dans le cas « Zone touristique (ZT) », "),
    ("Autre situation", ""),  # the default case of its block
])
def test_condition_phrases(label, phrase):
    assert condition_phrase(label) == phrase


def test_guide_first_person_and_question_headings_are_never_taken():
    guide = passage("F2", ["Fonctionnaire"], "Je m'informe sur l'âge minimum de départ à la retraite.\n\n"
                    "Quel est l'âge de départ ?\n\nL'âge minimum de départ à la retraite est fixé à 62 ans.", 1,
                    title="Je prépare ma retraite")
    body = draft_of("A quel âge puis-je partir à la retraite ?", [guide])
    assert "Je m'informe" not in body and "Quel est l'âge de départ ?" not in body
    assert "Si vous êtes fonctionnaire, l'âge minimum de départ à la retraite est fixé à 62 ans [1]." in body


def test_a_guided_search_route_is_never_taken():
    guide = passage("F34478", ["Passeport"], "- Pour un enfant mineur > Renouvellement > Le passeport est périmé → "
                    "Renouvellement du passeport d'un mineur (F21092)\n- Pour un majeur > Première demande → "
                    "Passeport d'un majeur : première demande (F14929)", 1, title="Passeport")
    rule = passage("F21092", ["Cas général"], "Le passeport d'un mineur est valable 5 ans.", 2,
                   title="Renouvellement du passeport d'un mineur")
    body = draft_of("Le passeport de mon fils mineur est périmé, combien de temps est valable le nouveau ?", [guide, rule])
    assert "→" not in body and "(F21092)" not in body
    assert "Le passeport d'un mineur est valable 5 ans [2]." in body


def test_a_sentence_that_points_back_comes_with_the_one_before_it():
    suspension = passage("F3", ["Suspension"], "Votre permis est suspendu pendant 6 mois par le préfet. "
                         "Passé ce délai, votre permis de conduire est renvoyé à l'ANTS qui le restitue.", 1,
                         title="Suspension du permis")
    body = draft_of("Mon permis est-il renvoyé à l'ANTS ?", [suspension])
    assert body.index("Votre permis est suspendu pendant 6 mois") < body.index("Passé ce délai")


def test_a_demonstrative_comes_after_the_sentence_naming_its_noun_not_the_one_just_before():
    urgent = passage("F1373", ["Conditions"], "Un passeport temporaire peut être délivré en urgence pour des motifs "
                     "d'ordre médical ou humanitaire. Les services préfectoraux décident de la délivrance selon la "
                     "situation. Ce passeport est valide seulement pendant 1 an.", 1,
                     title="Passeport en urgence : passeport temporaire pour un majeur")
    body = draft_of("Le passeport est valide combien de temps ?", [urgent])
    assert body.startswith("Un passeport temporaire peut être délivré en urgence")
    assert body.index("Un passeport temporaire") < body.index("Ce passeport est valide seulement pendant 1 an")


def test_the_lines_of_an_example_callout_do_not_answer_in_place_of_the_rule():
    notice = passage("F1168", ["Logement vide", "Durée du préavis"],
                     "> **Exemple** : Une lettre de congé reçue le 5 septembre fait courir un préavis :\n>\n"
                     "> - jusqu'au 5 octobre à minuit s'il est d'1 mois (et non jusqu'au 30 octobre),\n"
                     "> - jusqu'au 5 décembre à minuit s'il est de 3 mois (et non jusqu'au 31 décembre).\n\n"
                     "Le délai de préavis du locataire est de 3 mois, ou d'1 mois en zone tendue.", 1,
                     title="Préavis et formalités du congé donné par le locataire")
    examples = [c for c in candidates_of(notice, 1) if c.aside]
    assert len(examples) == 2 and all(c.text.startswith("Jusqu'au") for c in examples)
    body = draft_of("Combien de mois de préavis le locataire doit-il donner ?", [notice])
    assert body.startswith("Le délai de préavis du locataire est de 3 mois")
    assert "Jusqu'au 5 octobre" not in body  # the examples' dates are not the rule


def test_a_notice_of_a_coming_change_of_the_law_does_not_answer_in_place_of_the_rule():
    fault = passage("F10577", [], "> **Avertissement du 2020-06-18** : Simplification de la procédure de divorce\n>\n"
                    "> La loi de réforme pour la justice prévoit une modification de la procédure de divorce devant "
                    "le juge.\n\n"
                    "Pour un divorce pour faute, l'époux doit passer devant le juge avec son avocat.", 1,
                    title="Divorce pour faute")
    rules = [c.text[:30] for c in candidates_of(fault, 1) if not c.aside]
    assert rules == ["Pour un divorce pour faute, l'"]  # the callout's label and its lines are asides
    body = draft_of("Faut-il passer devant le juge pour divorcer ?", [fault])
    assert body.startswith("Pour un divorce pour faute, l'époux doit passer devant le juge")


def test_no_need_to_is_the_rule_that_answers_whether_one_must():
    mutual = passage("F10567", [], "Pour divorcer, chaque époux doit prendre un avocat. "
                     "Les époux n'ont pas besoin de passer devant le juge.", 1,
                     title="Divorce par consentement mutuel")
    body = draft_of("Est-ce qu'on est obligés de passer devant un juge ou de prendre chacun un avocat pour divorcer ?",
                    [mutual])
    assert body.startswith("Les époux n'ont pas besoin de passer devant le juge")


def test_a_question_answer_fiche_s_yes_or_no_opens_a_can_i_answer():
    # The Q-R fiche answers in its first words; the other passage shares more of the
    # question's words ("changer", "nom", "enfant", "mineur") without saying whether one may.
    answer = passage("F10506", [], "Oui, les parents peuvent changer le nom de famille de leur enfant mineur si le père "
                     "a reconnu l'enfant après la déclaration de naissance.", 1,
                     title="Peut-on changer le nom de famille de son enfant mineur ?")
    procedure = passage("F10506", ["Démarche"], "Pour changer le nom de l'enfant mineur, les parents font une "
                        "déclaration conjointe de changement de nom de l'enfant mineur à la mairie.", 2,
                        title="Peut-on changer le nom de famille de son enfant mineur ?")
    body = draft_of("Peut-on changer le nom d'un enfant mineur ?", [procedure, answer])
    assert body.startswith("Oui, les parents peuvent changer le nom de famille de leur enfant mineur")
    without = ExtractiveDrafter(weights={"yes_no": 0.0}).write_body(
        ["Peut-on changer le nom d'un enfant mineur ?"], [procedure, answer],
        needs=[Need(question="Peut-on changer le nom d'un enfant mineur ?")])
    assert without.startswith("Pour changer le nom de l'enfant mineur")


def test_a_sentence_that_adds_to_the_one_before_it_does_not_open_the_answer():
    reversion = passage("F13104", ["Qui est concerné ?"], "Vous pouvez percevoir une partie de la retraite de votre "
                        "époux décédé. Vous pouvez également percevoir une partie de la retraite complémentaire "
                        "Agirc-Arrco de votre époux décédé. Vous n'avez pas droit à la pension de réversion si vous "
                        "viviez en concubinage avec le défunt.", 1, title="Pension de réversion")
    body = draft_of("Est-ce que je peux toucher une partie de la retraite complémentaire de mon compagnon décédé ?",
                    [reversion], ["Nous vivions en concubinage."])
    assert not body.startswith("Vous pouvez également"), body
    also = body.index("Vous pouvez également")
    assert body.index("Vous pouvez percevoir une partie de la retraite") < also  # it comes after what it adds to


def test_every_sentence_of_a_notice_s_line_is_an_aside():
    notice = passage("F929", [], "> **Avertissement du 2020-05-29** : Covid 19 : prolongation du délai de préavis\n>\n"
                     "> L'ordonnance prévoit que le congé peut être délivré jusqu'au 23 août 2020. Si le locataire "
                     "reçoit le congé le 19 août 2020, le délai de préavis court à partir de cette date. Le locataire "
                     "devra libérer les lieux au plus tard le 19 février 2021.\n\n"
                     "Le propriétaire doit donner congé au locataire au moins 6 mois avant la fin du bail.", 1,
                     title="Préavis et formalités du congé donné par le propriétaire (bailleur)")
    rules = [c.text for c in candidates_of(notice, 1) if not c.aside]
    assert rules == ["Le propriétaire doit donner congé au locataire au moins 6 mois avant la fin du bail."]


def test_a_connector_that_adds_to_the_sentence_before_is_left_out():
    delay = passage("F1", [], "La compagnie vous doit une assistance en cas de retard. De plus, vous pourrez être "
                    "indemnisé si votre vol arrive 3 heures ou plus après l'heure d'arrivée prévue.", 1,
                    title="Voyage en avion : vol retardé")
    body = draft_of("Mon vol est arrivé avec 5 heures de retard, est-ce que je peux être indemnisé ?", [delay])
    assert body.startswith("Vous pourrez être indemnisé si votre vol arrive 3 heures ou plus"), body
    assert "De plus" not in body
    kept = "En plus de l'allocation, vous pouvez percevoir une prime."
    assert clean_markdown(kept) == kept  # "en plus de…" is no connector


def test_a_worked_calculation_does_not_answer_in_place_of_the_rule():
    capital_gain = passage("F10864", ["Imposition"], "Vous aurez ainsi un abattement sur la plus-value de : "
                           "10 000 € * 30 % soit 3 000 €. Vous déclarerez alors en revenu 7 000 € ( 10 000 € - "
                           "3 000 €). La plus-value immobilière est imposée à l'impôt sur le revenu au taux de 19 %.",
                           1, title="Impôt sur le revenu - Plus-value immobilière")
    body = draft_of("Quel abattement sur la plus-value de ma maison, et combien vais-je déclarer en revenu ?",
                    [capital_gain])
    assert body.startswith("La plus-value immobilière est imposée à l'impôt sur le revenu au taux de 19 %"), body


def test_a_sentence_said_in_one_paragraph_is_not_brought_back_as_another_s_antecedent():
    funeral = passage("F17059", [], "La Cnav peut payer une partie des frais d'obsèques si elle doit encore de "
                      "l'argent au défunt. Ce remboursement est plafonné à 2 286,74 € sur présentation de la facture "
                      "des obsèques.", 1, title="Qui doit payer les frais d'obsèques ?")
    questions = ["Qui peut payer les frais d'obsèques de ma mère ?",
                 "Le remboursement des frais d'obsèques est plafonné à combien, sur quelle facture ?"]
    one_sentence = ExtractiveDrafter(GenerationSettings(sentences_per_question=1))
    body = one_sentence.write_body(questions, [funeral], needs=[Need(question=q) for q in questions],
                                   groups=[[1], [1]])
    assert body.count("La Cnav peut payer une partie des frais d'obsèques") == 1, body


def test_an_example_is_not_said_for_the_fact_it_illustrates():
    notice = passage("F1168", ["Logement vide", "Point de départ du préavis"],
                     "Le délai de préavis du locataire court à partir de la réception de la lettre recommandée par "
                     "le propriétaire.\n\n> **Exemple** : Si les chiffres ne sont pas identiques, il s'agit du "
                     "dernier jour du mois :\n>\n> - Un délai d'1 mois partant du 30 janvier expire le 28 février\n",
                     1, title="Préavis et formalités du congé donné par le locataire")
    body = draft_of("Combien de temps de préavis je dois donner à mon propriétaire ?", [notice])
    assert body.startswith("Le délai de préavis du locataire court à partir de la réception"), body
    assert "30 janvier" not in body  # the worked date is not the duration asked


def test_a_list_opens_the_answer_to_which_steps_not_to_whether_a_tax_is_due():
    sale = passage("F10864", ["Calcul"], "Le notaire chargé de la vente effectue les opérations suivantes :\n"
                   "- Démarches auprès de l'administration fiscale\n"
                   "- Établissement de la déclaration\n"
                   "- Paiement de l'impôt sur la plus-value\n"
                   "La plus-value réalisée en vendant un bien est imposable, sauf pour votre résidence principale.",
                   1, title="Impôt sur le revenu - Plus-value immobilière")
    whether = draft_of("Faut-il payer un impôt sur la plus-value quand on vend sa maison ?", [sale])
    assert whether.startswith("La plus-value réalisée en vendant un bien est imposable")
    which = draft_of("Quelles démarches le notaire fait-il pour l'impôt sur la plus-value de la vente ?", [sale])
    assert which.startswith("Le notaire chargé de la vente effectue les opérations suivantes")


def test_the_answer_to_how_long_opens_with_the_duration(handmade_passages):
    body = draft_of("Combien de semaines dure le congé de maternité ?", handmade_passages)
    assert body.split(" [")[0].endswith("est de 16 semaines pour une naissance unique si vous avez moins de 2 enfants")


CASIER = passage("F1420", ["Demande en ligne"], "Vous pouvez faire la demande sur le site du casier judiciaire "
                 "national. Il faut indiquer votre état civil et l'adresse où envoyer le bulletin. Le bulletin "
                 "est gratuit. Si votre bulletin ne comporte aucune condamnation, il vous sera envoyé par "
                 "courrier dans un délai de 2 semaines maximum.", 1, title="Demande d'extrait de casier judiciaire")


def test_a_question_that_asks_two_things_gets_a_sentence_for_each():
    # "ça prend combien de temps" shares no word with the sentence that answers it.
    body = draft_of("Comment je l'obtiens et ça prend combien de temps ?", [CASIER],
                    ["On me demande un extrait de mon casier judiciaire pour mon embauche."])
    assert "dans un délai de 2 semaines maximum [1]." in body
    assert "Vous pouvez faire la demande sur le site du casier judiciaire national [1]." in body


def test_a_step_written_for_third_parties_answers_how():
    # "Les partenaires doivent adresser…": a step, though not addressed to "vous".
    pacs = passage("F1620", ["Séparation"], "En général, la séparation du Pacs se fait à l'amiable. En cas de "
                   "désaccord sur la séparation, le juge peut statuer sur les conséquences de la séparation. La "
                   "séparation est opposable aux tiers à la date de sa publicité. La séparation met fin au Pacs "
                   "entre les partenaires. Les partenaires doivent adresser une déclaration conjointe par lettre "
                   "recommandée.", 1, title="Dissoudre un Pacs")
    body = draft_of("Comment on fait pour annuler notre Pacs ?", [pacs], ["On se sépare d'un commun accord."])
    assert "Les partenaires doivent adresser une déclaration conjointe par lettre recommandée [1]." in body


def test_a_date_answers_until_when():
    deadline = passage("F12214", ["Demande"], "Vous devez faire une demande de bourse avec le dossier social "
                       "étudiant. Le dossier social étudiant permet de faire une demande de bourse et de logement. "
                       "Vous pouvez demander une bourse si vous avez moins de 28 ans. La bourse est versée en 10 "
                       "mensualités. Les demandes se font entre le 15 janvier et le 15 mai.", 1,
                       title="Bourse sur critères sociaux")
    body = draft_of("Comment faire pour avoir une bourse et quand faut-il la demander ?", [deadline])
    assert "entre le 15 janvier et le 15 mai [1]." in body


def test_each_question_has_its_paragraph_introduced_and_a_read_more_line(handmade_passages):
    questions = ["Combien de semaines dure le congé de maternité ?", "La carte d'identité d'un mineur est-elle gratuite ?"]
    needs = [Need(question=q) for q in questions]
    body = ExtractiveDrafter().write_body(questions, handmade_passages, needs=needs)
    first, second = body.split("\n\n")
    assert first.startswith("Concernant « Congé de maternité d'une salariée » :\n")
    assert second.startswith("Concernant « Carte d'identité d'un mineur » :\n")
    assert "\nPour en savoir plus : la fiche « Carte d'identité d'un mineur » de service-public.fr " \
           "(mise à jour le 12 mars 2024) [" in second


def test_citations_are_renumbered_in_order_of_appearance():
    text, order = renumber_citations("Un [3]. Deux [1, 3]. Trois [7]. Quatre [2].", ["p1", "p2", "p3", "p4"])
    assert text == "Un [1]. Deux [2, 1]. Trois [7]. Quatre [3]."
    assert order == ["p3", "p1", "p2", "p4"]


def test_a_case_the_citizen_denies_does_not_open_the_answer():
    heard = passage("F4", ["Cas : Un enfant demande à être entendu par le juge"],
                    "Le juge vérifie la convention de divorce et peut refuser de l'homologuer.", 1, title="Divorce")
    general = passage("F4", ["Cas général"], "La convention de divorce est signée chez l'avocat puis déposée "
                      "chez un notaire.", 2, title="Divorce")
    question = "Faut-il passer devant le juge pour la convention de divorce ?"
    assert draft_of(question, [general, heard], ["Nous avons un enfant de 12 ans."]).startswith(
        "Dans le cas « Un enfant demande à être entendu par le juge », le juge vérifie")
    body = draft_of(question, [general, heard], ["Nous sommes d'accord pour divorcer (pas d'enfant)."])
    assert body.startswith("La convention de divorce est signée chez l'avocat")
    assert negated_words("on n'est ni mariés ni pacsés, pas d'enfant") == {"mari", "pacs", "enfant"}


def test_of_two_cases_that_differ_by_a_negation_the_one_the_citizen_states_opens():
    unsound = passage("F6", ["Location vide", "Cas : État des lieux non conforme"],
                      "Le dépôt de garantie doit être restitué dans un délai maximal de 2 mois.", 1, title="Dépôt")
    sound = passage("F6", ["Location vide", "Cas : État des lieux conforme"],
                    "Le dépôt de garantie doit être restitué dans un délai maximal de 1 mois.", 2, title="Dépôt")
    question = "Dans quel délai le dépôt de garantie doit-il être restitué ?"
    body = draft_of(question, [unsound, sound], ["L'état des lieux de sortie était identique à celui d'entrée."])
    assert body.startswith("Dans le cas « État des lieux conforme », le dépôt de garantie doit être restitué "
                           "dans un délai maximal de 1 mois")
    body = draft_of(question, [sound, unsound], ["L'état des lieux n'était pas conforme : un mur abîmé."])
    assert body.startswith("Dans le cas « État des lieux non conforme »")


def test_the_cases_under_headings_inside_a_passage_become_conditions():
    both = passage("F7", ["Restitution"], "# Restitution\n\n## Cas : Vous êtes salarié\n\n"
                   "Le délai de préavis est de 1 mois.\n\n## Cas : Vous êtes fonctionnaire\n\n"
                   "Le délai de préavis est de 2 mois.", 1, title="Préavis")
    body = draft_of("Quel est le délai de préavis ?", [both], ["Je suis fonctionnaire territorial."])
    assert body.startswith("Si vous êtes fonctionnaire, le délai de préavis est de 2 mois [1].")
    # the other case, with its own condition, may follow; never without it
    assert "Le délai de préavis est de 1 mois" not in body


def test_a_sentence_pointing_back_to_another_passage_is_never_cited():
    cut = passage("F5", ["Délais"], "Pour éviter ces difficultés, le propriétaire peut écrire plus tôt au locataire. "
                  "En effet, un congé donné à l'avance reste valable. Le préavis du locataire est de 3 mois.", 1,
                  title="Préavis")
    body = draft_of("Quel est le préavis du locataire ?", [cut])
    assert "ces difficultés" not in body and "En effet" not in body
    assert body.startswith("Le préavis du locataire est de 3 mois [1].")


def test_then_among_the_first_words_points_back():
    lost = passage("F8", ["Perte"], "Vous devez déclarer la perte en ligne. Vous pouvez alors télécharger une "
                   "attestation de perte valable 2 mois.", 1, title="Perte du permis")
    body = draft_of("Comment avoir une attestation de perte de permis valable 2 mois ?", [lost])
    assert body.index("Vous devez déclarer la perte en ligne") < body.index("Vous pouvez alors télécharger")
    alone = passage("F8", ["Perte"], "Vous pouvez alors télécharger une attestation de perte valable 2 mois.", 2,
                    title="Perte du permis")
    assert "alors" not in draft_of("Comment avoir une attestation de perte de permis ?", [alone])


def test_list_items_joined_after_their_colon_start_in_lower_case():
    documents = passage("F12", ["Pièces"], "Vous devez présenter les documents suivants :\n\n"
                        "- Un justificatif d'identité\n- Le justificatif de domicile de moins de 3 mois\n"
                        "- Soit un RIB, soit un chèque", 1, title="Reconnaissance")
    texts = [c.text for c in candidates_of(documents, 1)]
    assert texts == ["Vous devez présenter les documents suivants : un justificatif d'identité ; "
                     "le justificatif de domicile de moins de 3 mois ; soit un RIB, soit un chèque"]
    places = passage("F12", ["Lieux"], "Le mariage est possible dans l'un des territoires suivants :\n\n"
                     "- Nouvelle-Calédonie\n- Polynésie française", 2, title="Mariage")
    assert [c.text for c in candidates_of(places, 2)] == [
        "Le mariage est possible dans l'un des territoires suivants : Nouvelle-Calédonie ; Polynésie française"]


def test_a_list_item_without_a_clause_is_an_item_not_a_sentence():
    documents = passage("F10", ["Pièces"], "Les pièces dépendent de votre situation\n\n"
                        "- Actes de naissance de vos enfants nés avant ou après le mariage\n"
                        "- Vous devez aussi fournir un justificatif de domicile récent.\n\n"
                        "Vous devez faire la demande auprès de la mairie du lieu de naissance.", 1, title="Nationalité")
    texts = [c.text for c in candidates_of(documents, 1)]
    assert not any(t.startswith("Actes de naissance") for t in texts)
    assert "Vous devez aussi fournir un justificatif de domicile récent." in texts
    assert "Vous devez faire la demande auprès de la mairie du lieu de naissance." in texts


def test_a_yes_or_no_answer_only_opens_a_paragraph():
    syndic = passage("F11", ["Faute"], "Le syndic peut être révoqué par l'assemblée générale des copropriétaires. "
                     "Oui, si les faits reprochés au syndic sont graves.", 1, title="Révoquer le syndic")
    body = draft_of("L'assemblée générale peut-elle révoquer le syndic ?", [syndic])
    assert body.startswith("Le syndic peut être révoqué par l'assemblée générale")
    assert "Oui, si" not in body


def test_list_items_cut_from_their_lead_in_are_not_sentences():
    # The chunk starts in the middle of a list: its items end with "," and lead nowhere.
    body = ("- le certificat de situation administrative (daté de moins de 15 jours),\n"
            "- l'exemplaire n°2 signé du formulaire cerfa de cession, au nom des héritiers,\n\n"
            "La carte grise doit être mise au nom du nouveau propriétaire dans un délai d'un mois.")
    texts = [c.text for c in candidates_of(passage("F1", ["Carte grise", "Héritier"], body), 1)]
    assert texts == ["La carte grise doit être mise au nom du nouveau propriétaire dans un délai d'un mois."]


def test_a_guide_sentence_in_the_first_person_is_never_taken_wherever_its_je():
    guide = passage("F2", ["Salarié du privé"], "À partir de mon espace personnel, je demande une estimation de ma pension.\n\n"
                    "4 à 6 mois avant la date de départ, j'effectue ma demande de retraite en ligne.\n\n"
                    "Vous pouvez partir à la retraite à partir de 62 ans.", 1, title="Je prépare ma retraite")
    texts = [c.text for c in candidates_of(guide, 1)]
    assert texts == ["Vous pouvez partir à la retraite à partir de 62 ans."]


def test_a_sentence_opening_with_a_conjunction_leans_on_the_one_before():
    body = "Vous devez envoyer l'avis d'arrêt de travail à la CPAM. Et vous permet de percevoir des indemnités journalières."
    [first, second] = candidates_of(passage("F3", ["Salarié"], body), 1)
    assert second.anaphoric and not second.unanchored


def test_a_paragraph_introduced_by_a_title_that_quotes_is_service_text():
    from generation.format import QUESTION_INTRO, is_non_claim

    intro = QUESTION_INTRO.format(topic="Peut-on mettre temporairement une association « en sommeil » ?")
    assert is_non_claim(intro)
    assert not is_non_claim("Concernant « la carte », elle est gratuite.")


def test_a_sentence_announcing_conditions_set_out_below_is_not_taken_without_them():
    # F2726: the conditions are headings below the announcement, not a list after a colon.
    body = ("## Conditions\n\nVous devez remplir toutes les conditions suivantes pour acquérir la nationalité "
            "française par déclaration de mariage.\n\nSi ce n'est pas le cas, vérifiez si vous pouvez devenir "
            "français par une autre procédure.\n\n### Durée du mariage\n\nVous devez être marié(e) depuis 4 ans "
            "minimum avec un(e) Français(e) à la date de votre déclaration.\n\nLe mois suivant, la demande est "
            "transmise au ministère.")
    candidates = candidates_of(passage("F2726", ["Nationalité française par mariage"], body, 1), 1)
    texts = [c.text for c in candidates]
    assert not any("conditions suivantes" in t for t in texts)
    assert "Vous devez être marié(e) depuis 4 ans minimum avec un(e) Français(e) à la date de votre déclaration." in texts
    assert "Le mois suivant, la demande est transmise au ministère." in texts  # a time, not an announcement
    after = next(c for c in candidates if c.text.startswith("Si ce n'est pas le cas"))
    assert after.anaphoric and after.unanchored  # what it points back to was not taken


def test_a_table_continued_from_the_chunk_before_reads_its_rows_by_their_first_cell():
    # The chunk starts inside F32886's table: its heading row stayed in the chunk before.
    body = ("| Société anonyme (SA) | Société de capitaux, 2 associés au minimum. | Artisan, commerçant |\n"
            "| Société à responsabilité limitée (SARL) | Société dans laquelle chacun des associés (entre 2 et 100) "
            "n'est responsable des dettes qu'à hauteur de ses apports. Aucun capital minimum. | Artisan, commerçant |\n")
    texts = [c.text for c in candidates_of(passage("F32886", ["Créer une société"], body, 1), 1)]
    assert texts == [
        "Société anonyme (SA) : Société de capitaux, 2 associés au minimum ; Artisan, commerçant",
        # a cell of two sentences: one sentence each, named by the row, none cut in a draft
        "Société à responsabilité limitée (SARL) : société dans laquelle chacun des associés (entre 2 et 100) "
        "n'est responsable des dettes qu'à hauteur de ses apports",
        "Société à responsabilité limitée (SARL) : aucun capital minimum",
        "Société à responsabilité limitée (SARL) : artisan, commerçant",
    ]


def test_a_heading_that_asks_loses_its_question_mark_and_a_long_cell_is_cut_by_sentence():
    body = ("| Statut | Caractéristiques | Qui peut l'utiliser ? |\n|---|---|---|\n"
            "| SA | Société de capitaux. | Industriel |\n"
            "| EURL | Société d'un associé unique. Aucun capital minimum. | Artisan |\n")
    texts = [c.text for c in candidates_of(passage("F32886", ["Créer une société"], body, 1), 1)]
    assert texts == [
        "Statut : SA ; Caractéristiques : Société de capitaux ; Qui peut l'utiliser : Industriel",
        "EURL, caractéristiques : société d'un associé unique",
        "EURL, caractéristiques : aucun capital minimum",
        "EURL, qui peut l'utiliser : artisan",
    ]


def test_a_table_row_is_one_unit_even_when_its_cells_hold_sentences():
    text = "| SARL | Société à associés. Aucun capital minimum. | Artisan |\n| SA | Société de capitaux. | Industriel |"
    spans = split_sentences(text)
    assert [s.text for s in spans] == ["| SARL | Société à associés. Aucun capital minimum. | Artisan |",
                                       "| SA | Société de capitaux. | Industriel |"]
    assert all(text[s.start : s.end] == s.text for s in spans)


# F59's cases by age, as the fiche writes them.
TAX_BY_AGE = [
    passage("F59", ["Personnes pouvant en être exonérées", "Cas : Vous avez entre 65 et 75 ans"],
            "Vous bénéficiez d'une réduction de 100 € de la taxe foncière si vos revenus ne dépassent pas le plafond.",
            1, title="Taxe foncière"),
    passage("F59", ["Personnes pouvant en être exonérées", "Cas : Vous avez plus de 75 ans"],
            "Vous bénéficiez d'une exonération de taxe foncière pour votre habitation principale.", 2, title="Taxe foncière"),
]


@pytest.mark.parametrize("age, opening", [
    ("78", "Si vous avez plus de 75 ans, vous bénéficiez d'une exonération de taxe foncière"),
    ("68", "Si vous avez entre 65 et 75 ans, vous bénéficiez d'une réduction de 100 €"),
])
def test_the_case_that_the_citizen_s_age_meets_opens_the_answer(age, opening):
    situation = [f"Je suis veuve, j'ai {age} ans et je vis seule dans ma maison."]
    for passages in (TAX_BY_AGE, TAX_BY_AGE[::-1]):
        body = draft_of("Est-ce que je peux être dispensée de la taxe foncière ?", passages, situation)
        assert body.startswith(opening)


def test_an_age_condition_far_below_the_citizen_s_age_tells_nothing_a_near_one_does():
    jury = passage("F1044", ["Dispense"], "Vous ne pouvez pas refuser d'être juré. Vous pouvez être juré si vous "
                   "remplissez les conditions suivantes :\n\n- Vous êtes âgé d'au moins 23 ans\n- Vous savez lire\n\n"
                   "Vous pouvez demander une dispense si vous êtes dans l'une des situations suivantes :\n\n"
                   "- Vous avez plus de 70 ans\n- Vous rencontrez des difficultés graves", 1, title="Juré d'assises")
    body = draft_of("Suis-je obligé d'y aller comme juré ?", [jury], ["J'ai 73 ans et des problèmes de dos."])
    dispense = "Vous pouvez demander une dispense si vous êtes dans l'une des situations suivantes : Vous avez plus de 70 ans"
    assert dispense in body
    without_age = draft_of("Suis-je obligé d'y aller comme juré ?", [jury], ["J'ai des problèmes de dos."])
    assert dispense not in without_age
    assert dispense not in draft_of("Suis-je obligé d'y aller comme juré ?", [jury], ["J'ai 45 ans."])


def test_a_document_s_age_is_not_the_duration_a_question_asks_for():
    b3 = [passage("F1420", ["Né en métropole"], "La procédure pour obtenir l'extrait de casier judiciaire dépend de "
                  "votre lieu de naissance. Pour obtenir l'extrait sur place, munissez-vous d'un acte de naissance de "
                  "moins de 3 mois. Pour obtenir l'extrait par courrier, écrivez au casier judiciaire national. "
                  "La réponse arrive dans un délai de 2 semaines maximum.", 1, title="Extrait de casier judiciaire")]
    body = draft_of("Comment obtenir l'extrait de casier judiciaire et ça prend combien de temps ?", b3)
    assert "dans un délai de 2 semaines maximum" in body


def test_a_sentence_that_qualifies_the_one_before_comes_after_it():
    jury = passage("F1044", ["Dispense"], "Vous ne pouvez pas refuser d'être juré d'assises. Vous pouvez néanmoins "
                   "demander une dispense si vous avez plus de 70 ans.", 1, title="Juré d'assises")
    [rule, dispense] = candidates_of(jury, 1)
    assert dispense.anaphoric and not dispense.unanchored
    body = draft_of("Suis-je obligé d'y aller comme juré ?", [jury], ["J'ai 73 ans."])
    assert body.index("Vous ne pouvez pas refuser") < body.index("Vous pouvez néanmoins demander une dispense")


def test_a_second_yes_or_no_is_not_brought_in_by_the_sentence_that_leans_on_it():
    card = passage("F1", ["Adresse"], "Non, après un déménagement, vous n'êtes pas obligé de refaire votre carte "
                   "d'identité.", 1, title="Carte d'identité et déménagement")
    renewal = passage("F1", ["Nouvelle adresse"], "Non, modifier l'adresse de sa carte d'identité n'est pas obligatoire. "
                      "Si vous voulez néanmoins que votre nouvelle adresse figure sur la carte d'identité, vous devez "
                      "faire une demande de renouvellement.", 2, title="Carte d'identité et déménagement")
    body = draft_of("Dois-je refaire ma carte d'identité pour y mettre ma nouvelle adresse ?", [card, renewal])
    assert body.startswith("Non, après un déménagement")
    assert body.count("Non,") == 1
    assert "Si vous voulez néanmoins que votre nouvelle adresse figure" in body


def test_a_case_and_a_sentence_that_both_set_a_condition_read_as_one():
    lawyer = passage("F18074", ["Vous êtes français"], "Si vous avez droit à l'aide juridictionnelle, vous pouvez "
                     "choisir votre avocat.", 1, title="Aide juridictionnelle")
    body = draft_of("Est-ce que je peux choisir mon avocat avec l'aide juridictionnelle ?", [lawyer])
    assert body.startswith("Si vous êtes français et si vous avez droit à l'aide juridictionnelle, vous pouvez "
                           "choisir votre avocat [1].")


def test_the_answer_opens_and_the_rest_of_its_passage_follows_before_other_passages():
    letters = passage("F1", ["Lettres"], "Chaque retrait de points de votre permis est notifié par une lettre.",
                      1, title="Points du permis")
    points = passage("F1", ["Information"], "Pour connaître le nombre de points restant sur votre permis, vous "
                     "pouvez utiliser le téléservice Télépoints. Le nombre de points restant sur votre permis "
                     "figure aussi sur le relevé intégral, à demander en préfecture.", 2, title="Points du permis")
    body = draft_of("Comment connaître le nombre de points restant sur mon permis ?", [letters, points])
    answer, same_passage, other = (body.index("Télépoints"), body.index("relevé intégral"),
                                   body.index("Chaque retrait"))
    assert answer < same_passage < other
