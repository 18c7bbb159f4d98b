from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, Albert API).

    Without a base URL, drafts are extractive. The `llm` section of the settings
    (api.settings.GuichetSettings). Environment: GUICHET_LLM_<FIELD>.
    """

    env_prefix: ClassVar[str] = "GUICHET_LLM_"

    base_url: str | None = None
    model: str = "default"
    api_key: SecretStr | None = None
    timeout_s: float = 30.0  # per request, and between two pieces of a stream
    stream_deadline_s: float = 120.0  # a whole streamed answer
    max_tokens: int = 1024
    temperature: float = 0.1
    # The model's context window in tokens: the prompt is cut to leave max_tokens for the
    # answer (the lowest-ranked passages dropped first, with a notice).
    context_window: int = 8192

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


class GenerationSettings(BaseModel):
    """Drafting limits and thresholds: the `generation` section of the settings
    (api.settings.GuichetSettings). Environment: GUICHET_GENERATION_<FIELD>."""

    env_prefix: ClassVar[str] = "GUICHET_GENERATION_"

    # Only the first this many characters of a message are read into questions (a longer
    # one gets a notice). The API refuses messages above GUICHET_MAX_MESSAGE_CHARS
    # (api.max_message_chars, 20,000) outright: that limit protects the server, this one
    # keeps the analysis of a long thread on its beginning.
    analysed_message_chars: int = Field(default=6000, gt=0)
    max_questions: int = 3
    # Who reads the message into needs: "rules" (generation.reading, the default) or
    # "llm" (generation.llm_reading, when GUICHET_LLM_BASE_URL is set; rules as fallback).
    reader: Literal["rules", "llm"] = "rules"
    # Passages retrieved per question, and kept in the numbered list overall.
    k: int = 5
    passages_per_question: int = 4
    max_passages: int = 10
    # Below this retrieval confidence the draft abstains for that question; below
    # `low_confidence` it answers with a notice asking the agent to check that the fiche
    # fits. Chosen with generation.abstention.choose_threshold on e-mail-like questions
    # derived from the corpus and their own out-of-scope pool (evals/calibrate_needs.py),
    # after generation.scope has set aside the requests no fiche answers (a file's state,
    # an office's hours, an action on an account, advice, a reform newer than the
    # fiches): 0.09 answers at most 20 % of the out-of-scope ones, 0.28 at most 10 %.
    # The agent reads every draft: a doubtful draft, flagged, costs less than an
    # abstention that hides the right fiche.
    min_confidence: float = 0.09
    low_confidence: float = 0.28
    # An abstention lists the nearest fiches only for questions searched with at least
    # this confidence; below, it says that none is close.
    nearest_min_confidence: float = 0.2
    # Extractive drafter: sentences chosen per question, MMR trade-off.
    sentences_per_question: int = 3
    mmr_lambda: float = 0.7
    # Verification: below this support score a cited sentence is "weak support": the
    # share of its words in the cited passage (a sentence of the passage scores 1.0), or
    # its closeness in meaning (generation.verify.SEMANTIC_FLOOR). Chosen with
    # `guichet eval verify`: 0.5 let a third of the sentences of another fiche through.
    min_support: float = 0.75
    # Semantic support: sentences whose words fall short of min_support are compared by
    # meaning with their passage, with the retriever's embedder (one call per draft).
    semantic_support: bool = True
    # Placeholders put back into the agent's draft. Contact details of the citizen
    # are left masked on purpose: a reply never needs them, and an injected
    # "write to <e-mail>" in the message must not come back through unmasking.
    unmask_kinds: list[str] = ["NOM"]
    # A link or e-mail address in a draft must occur in the sources AND belong to one
    # of these domains (or a subdomain); empty: occurring in the sources is enough.
    trusted_domains: list[str] = [
        "gouv.fr", "service-public.fr", "ameli.fr", "caf.fr", "msa.fr", "urssaf.fr",
        "francetravail.fr", "pole-emploi.fr", "info-retraite.fr", "lassuranceretraite.fr",
        "agirc-arrco.fr", "retraites.fr", "cnav.fr", "europa.eu", "cnil.fr", "justice.fr",
        "defenseurdesdroits.fr", "vie-publique.fr", "insee.fr", "net-entreprises.fr",
        "infogreffe.fr", "inpi.fr", "bpifrance.fr", "sante.fr", "santepubliquefrance.fr",
        "has-sante.fr", "mdph.fr", "notaires.fr", "avocat.fr", "commissaire-justice.fr",
        "ants.gouv.fr", "impots.gouv.fr", "legifrance.gouv.fr",
    ]
