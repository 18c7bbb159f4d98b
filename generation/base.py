"""Small abstract bases of generation."""

from __future__ import annotations

from abc import ABC, abstractmethod

from generation.types import Draft, DraftFormat
from retrieval.types import Passage


class Drafter(ABC):
    """Writes a reply from numbered passages; the caller verifies the result."""

    @abstractmethod
    def write(
        self,
        questions: list[str],
        passages: list[Passage],
        *,
        format: DraftFormat = DraftFormat.EMAIL,
    ) -> str:
        """The draft text, citing passages as [1], [2]… in the order given."""
