"""Small abstract bases of generation."""

from __future__ import annotations

from abc import ABC, abstractmethod

from generation.format import compose
from generation.types import Draft, DraftFormat, Need  # noqa: F401  (Draft: re-exported contract)
from retrieval.types import Passage


class Drafter(ABC):
    """Writes a reply from numbered passages; the caller verifies the result."""

    @abstractmethod
    def write_body(self, questions: list[str], passages: list[Passage], message: str | None = None, *,
                   needs: list[Need] | None = None, groups: list[list[int]] | None = None) -> str:
        """The answer alone, without greeting or closing formula, citing passages as
        [1], [2]… in the order given. `message` is the (masked) citizen's message,
        `needs` each question with its situation, `groups` the numbers of the passages
        retrieved for each question (best first), for drafters that use them."""

    def write(
        self,
        questions: list[str],
        passages: list[Passage],
        *,
        format: DraftFormat = DraftFormat.EMAIL,
        message: str | None = None,
    ) -> str:
        """The whole draft in `format`: the body between greeting and closing formula."""
        return compose(self.write_body(questions, passages, message), format)
