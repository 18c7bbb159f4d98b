"""Fiche → section-aware chunks of about 300–500 words.

The sections of a fiche form a tree (Situation → Chapitre → SousChapitre → Cas). A
subtree that fits in `max_words` becomes one chunk; a larger one is split along its
children, and consecutive small siblings are merged back up to a balanced size.
Situations are mutually exclusive profiles, so two situations never share a chunk.
A leaf too long on its own is split between blocks, tables between rows (header
repeated), long paragraphs between sentences.

Each chunk's text starts with its breadcrumb line ("Fiche > Situation > Chapitre >
Cas : …"); the first chunk also carries the fiche's description, the only summary of
many Question-réponse fiches.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from ingest.inline import collapse
from ingest.model import Chunk, Fiche, Section

MIN_WORDS = 300
MAX_WORDS = 500
BREADCRUMB_SEPARATOR = " > "
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def count_words(text: str) -> int:
    """Words of Markdown text: tokens with a letter or digit (table rules and markup
    are not words)."""
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


@dataclass
class Piece:
    path: list[str]
    text: str
    words: int
    mergeable: bool = True
    # Starts with the heading of its own subtree: a short run of the parent's content
    # (intro, heading) may be glued in front of it.
    opens_node: bool = False
    # Belongs to a situation: nothing from outside may be glued to it.
    barrier: bool = False


@dataclass
class Node:
    path: list[str]
    is_situation: bool = False
    items: list[str | Node] = field(default_factory=list)

    @cached_property
    def words(self) -> int:
        return sum(count_words(i) if isinstance(i, str) else i.words for i in self.items)

    @cached_property
    def text(self) -> str:
        return "\n\n".join(i if isinstance(i, str) else i.text for i in self.items)

    @property
    def has_situations(self) -> bool:
        return any(isinstance(i, Node) and i.is_situation for i in self.items)


def section_tree(sections: list[Section], preface: str = "") -> Node:
    """Sections (document order, headings included in their Markdown) → a tree."""
    root = Node(path=[])
    if preface:
        root.items.append(preface)
    stack = [root]
    for section in sections:
        heading = _heading_level(section)
        depth = len(section.path)
        while len(stack) > 1 and (len(stack[-1].path) >= depth if heading else len(stack[-1].path) > depth):
            stack.pop()
        if heading:
            node = Node(path=list(section.path), is_situation=heading == 1)
            stack[-1].items.append(node)
            stack.append(node)
        stack[-1].items.append(section.markdown)
    return root


def _heading_level(section: Section) -> int:
    """The level of the heading that opens a section (its last path element), else 0."""
    if not section.path:
        return 0
    first_line = section.markdown.split("\n", 1)[0]
    marks = len(first_line) - len(first_line.lstrip("#"))
    return marks if 0 < marks <= 6 and first_line[marks:] == f" {section.path[-1]}" else 0


class Chunker:
    def __init__(self, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS):
        if not 0 < min_words <= max_words:
            raise ValueError(f"chunk sizes must satisfy 0 < min_words <= max_words, got {min_words}, {max_words}")
        self.min_words = min_words
        self.max_words = max_words

    def pieces(self, node: Node) -> list[Piece]:
        if node.words <= self.max_words and not node.has_situations:
            return [Piece(node.path, node.text, node.words)]
        units: list[Piece] = []
        for item in node.items:
            if isinstance(item, str):
                units.extend(self.split_text(node.path, item))
            elif item.words <= self.max_words and not item.has_situations:
                units.append(Piece(item.path, item.text, item.words, mergeable=not item.is_situation))
            else:
                split = self.pieces(item)
                units.extend(
                    replace(p, mergeable=False, opens_node=(i == 0), barrier=item.is_situation)
                    for i, p in enumerate(split)
                )
        return self.merge(node.path, units)

    def merge(self, path: list[str], units: list[Piece]) -> list[Piece]:
        """Merge runs of consecutive mergeable units into balanced pieces."""
        out: list[Piece] = []
        run: list[Piece] = []
        for unit in units:
            if unit.mergeable:
                run.append(unit)
                continue
            packed = self.pack(path, run)
            run = []
            if packed and unit.opens_node and not unit.barrier and packed[-1].words + unit.words <= self.max_words:
                unit = self.join(path, [packed.pop(), unit])
                unit.mergeable = False
            out.extend(packed)
            out.append(unit)
        out.extend(self.pack(path, run))
        return out

    def pack(self, path: list[str], units: list[Piece]) -> list[Piece]:
        """Greedy up to max_words; a short last group takes units from the one before."""
        groups: list[list[Piece]] = []
        size = 0
        for unit in units:
            if not groups or size + unit.words > self.max_words:
                groups.append([])
                size = 0
            groups[-1].append(unit)
            size += unit.words
        if len(groups) > 1:
            _rebalance(groups[-2], groups[-1], self.min_words, self.max_words)
        return [self.join(path, group) for group in groups if group]

    @staticmethod
    def join(path: list[str], group: list[Piece]) -> Piece:
        if len(group) == 1:
            return group[0]
        common = _common_prefix([u.path for u in group] + [path])
        return Piece(common, "\n\n".join(u.text for u in group), sum(u.words for u in group))

    def split_text(self, path: list[str], text: str) -> list[Piece]:
        """A leaf's Markdown → pieces that fit, split between blocks; the heading
        stays with the block that follows it."""
        if count_words(text) <= self.max_words:
            return [Piece(list(path), text, count_words(text))]
        blocks = text.split("\n\n")
        heading = blocks.pop(0) if blocks[0].startswith("#") else ""
        budget = self.max_words - count_words(heading)
        parts = [part for block in blocks for part in self.split_block(block, budget) if part.strip()]
        if heading:
            parts = [f"{heading}\n\n{parts[0]}", *parts[1:]] if parts else [heading]
        units = [Piece(list(path), part, count_words(part)) for part in parts]
        return [replace(p, mergeable=False) for p in self.pack(path, units)]

    def split_block(self, block: str, budget: int) -> list[str]:
        if count_words(block) <= budget:
            return [block]
        lines = block.split("\n")
        if lines[0].startswith("|") and len(lines) > 3:
            return self._split_rows(lines[:2], lines[2:], budget)
        if len(lines) > 1:
            return self._pack_strings(lines, "\n", budget)
        sentences = _SENTENCE_END.split(block)
        if len(sentences) > 1:
            return self._pack_strings(sentences, " ", budget)
        words = block.split(" ")
        return [" ".join(words[i : i + budget]) for i in range(0, len(words), budget)]

    def _split_rows(self, header: list[str], rows: list[str], budget: int) -> list[str]:
        """Table rows in groups that fit, each group under the repeated header."""
        room = max(1, budget - count_words("\n".join(header)))
        return ["\n".join(header + group) for group in self._groups(rows, room)]

    def _pack_strings(self, parts: list[str], glue: str, budget: int) -> list[str]:
        out = []
        for group in self._groups(parts, budget):
            joined = glue.join(group)
            too_long = len(group) == 1 and count_words(joined) > budget
            out.extend(self.split_block(joined, budget) if too_long else [joined])
        return out

    @staticmethod
    def _groups(parts: list[str], budget: int) -> Iterable[list[str]]:
        total = sum(count_words(p) for p in parts)
        limit = min(budget, math.ceil(total / max(1, math.ceil(total / budget))) + 10)
        group: list[str] = []
        size = 0
        for part in parts:
            words = count_words(part)
            if group and size + words > limit:
                yield group
                group, size = [], 0
            group.append(part)
            size += words
        if group:
            yield group


def chunk_fiche(fiche: Fiche, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[Chunk]:
    """Section-aware chunks of one fiche, in document order, IDs f"{fiche.id}#{i}"."""
    chunker = Chunker(min_words, max_words)
    tree = section_tree(fiche.sections, preface=_preface(fiche))
    pieces = [p for p in chunker.pieces(tree) if p.words or p.text.strip()]
    situations = {s.path[0] for s in fiche.sections if len(s.path) == 1 and _heading_level(s) == 1}
    chunks = []
    for index, piece in enumerate(pieces):
        breadcrumb = [fiche.title, *piece.path]
        chunks.append(
            Chunk(
                id=f"{fiche.id}#{index}",
                fiche_id=fiche.id,
                index=index,
                text=BREADCRUMB_SEPARATOR.join(breadcrumb) + "\n\n" + piece.text,
                breadcrumb=breadcrumb,
                title=fiche.title,
                url=fiche.url,
                date=fiche.date,
                type=fiche.type,
                audiences=list(fiche.audiences),
                themes=list(fiche.themes),
                words=piece.words,
                source=fiche.source,
                legal_ids=_piece_references(fiche.sections, piece),
                situation=piece.path[0] if piece.path and piece.path[0] in situations else "",
            )
        )
    return chunks


def _piece_references(sections: list[Section], piece: Piece) -> list[str]:
    """The references of the sections a chunk holds: the section it lies in, or those
    whose opening line it contains (small sections merged into one chunk)."""
    found: list[str] = []
    for section in sections:
        if not section.references:
            continue
        opening = section.markdown.split("\n", 1)[0]
        if section.path == piece.path or (opening and opening in piece.text):
            found.extend(r for r in section.references if r not in found)
    return found


def chunk_fiches(fiches: Iterable[Fiche], *, content_only: bool = True, **sizes) -> list[Chunk]:
    """Chunks of many fiches; only content fiches (F*) unless content_only=False."""
    return [c for f in fiches if f.is_content or not content_only for c in chunk_fiche(f, **sizes)]


def _preface(fiche: Fiche) -> str:
    """The description, unless a paragraph of the opening section starts with it (the
    Introduction usually repeats it)."""
    description = _normalised(fiche.description)
    if not description:
        return ""
    opening = fiche.sections[0].markdown.split("\n\n") if fiche.sections else []
    paragraphs = [_normalised(b) for b in opening if not b.startswith(("#", ">", "-", "|"))]
    return "" if any(p.startswith(description) for p in paragraphs) else collapse(fiche.description)


def _normalised(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


def _rebalance(previous: list[Piece], last: list[Piece], min_words: int, max_words: int) -> None:
    """Move units from the end of `previous` to `last` while `last` is short and the
    move makes the two closer in size."""
    def words(group: list[Piece]) -> int:
        return sum(u.words for u in group)

    while len(previous) > 1 and words(last) < min_words:
        unit = previous[-1]
        if words(last) + unit.words > min(max_words, words(previous) - unit.words):
            break
        last.insert(0, previous.pop())


def _common_prefix(paths: list[list[str]]) -> list[str]:
    prefix: list[str] = []
    for parts in zip(*paths):
        if any(p != parts[0] for p in parts):
            break
        prefix.append(parts[0])
    return prefix
