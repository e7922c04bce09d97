"""TurnCard: the card(s) showing one agent turn, accumulated, bounded and never cut.

Owns how a turn's blocks are packed into cards under a byte budget, when a card becomes final
(a newer card exists) and the header and footer by state. Pure: knows nothing of sending,
message ids or throttling, nor of how one message looks (turn_blocks). A working turn's last
card streams (config.streaming_mode) and carries key buttons (Esc, Screenshot, Ctrl-C) when
given the value they carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from cclark.cards.buttons import ButtonStyle, ClickKind, Confirm, button, button_row
from cclark.cards.chunks import MAX_TABLES_PER_CARD
from cclark.cards.elements import (
    CARD_LIMIT_BYTES,
    MARKDOWN_ELEMENT_BYTES,
    SAFE_CARD_BYTES,
    CardJson,
    Element,
    HeaderTemplate,
    card,
    markdown,
    note,
    utf8_len,
    wire_bytes,
)
from cclark.cards.turn_blocks import Block, Entry, block_element, entry_blocks, fold
from unified_icc import AgentMessage

__all__ = ["MAX_CARD_ELEMENTS", "MIN_BUDGET_BYTES", "TurnCard", "TurnState", "turn_title"]

MAX_CARD_ELEMENTS: Final = 150
"""Elements per card, nested ones included; Feishu allows 200."""

MIN_BUDGET_BYTES: Final = 20_000
"""The smallest budget: the largest single block (4 KB of markdown, 4 wire bytes per byte
at worst) must fit in an empty card."""

_SLACK: Final = 64  # bytes kept free for the JSON separators around the footer
_CONTINUED: Final = "continued in the next card ↓"


class TurnState(StrEnum):
    WORKING = "working"
    DONE = "done"
    ERROR = "error"


_TEMPLATES: Final = {
    TurnState.WORKING: HeaderTemplate.BLUE,
    TurnState.DONE: HeaderTemplate.GREEN,
    TurnState.ERROR: HeaderTemplate.RED,
}
_FOOTERS: Final = {
    TurnState.WORKING: "⏳ working…",
    TurnState.DONE: "✅ done",
    TurnState.ERROR: "❌ the turn ended with an error",
}


def turn_title(agent: str, project: str, mode: str = "normal") -> str:
    """The header title of a turn card: ``claude · my-project``, and the session's mode when
    it is not the standard one (``claude · my-project · yolo``)."""
    title = f"{agent} · {project}" if project else agent
    return title if mode == "normal" else f"{title} · {mode}"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Sealed:
    blocks: tuple[Block, ...]
    template: HeaderTemplate


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnCard:
    """The accumulated messages of one agent turn, rendered as one card or more.

    Immutable: add and finish return a new TurnCard. render() gives the cards in order; all
    but the last are final (their JSON never changes again), and a new card starts only when
    the content would push the current one over budget_bytes (measured with wire_bytes). No
    content is ever dropped: long text continues in the next card, a code fence cut between
    cards is closed and reopened with its language.
    """

    title: str
    verbose: bool = False
    # The value the key buttons of a working turn carry (its chat and window); None: no buttons.
    keys: Mapping[str, Any] | None = None
    budget_bytes: int = SAFE_CARD_BYTES
    state: TurnState = TurnState.WORKING
    _sealed: tuple[_Sealed, ...] = field(default=(), repr=False)
    _open: tuple[Entry, ...] = field(default=(), repr=False)
    _skip: int = field(default=0, repr=False)  # blocks of _open[0] already in sealed cards

    def __post_init__(self) -> None:
        if not MIN_BUDGET_BYTES <= self.budget_bytes <= CARD_LIMIT_BYTES:
            raise ValueError(f"budget_bytes must be within {MIN_BUDGET_BYTES}..{CARD_LIMIT_BYTES}")

    @property
    def card_count(self) -> int:
        """How many cards render() returns."""
        return len(self._sealed) + 1

    def add(self, messages: Iterable[AgentMessage]) -> TurnCard:
        """This turn with messages appended (tool results paired with their calls)."""
        return replace(self, _open=fold(self._open, messages))._settled()

    def finish(self, *, ok: bool = True) -> TurnCard:
        """This turn marked done (green) or, when not ok, ended with an error (red)."""
        return replace(self, state=TurnState.DONE if ok else TurnState.ERROR)

    def render(self) -> list[CardJson]:
        """The card JSON of every card of the turn, oldest first; never empty."""
        total = self.card_count
        cards = [
            self._card(
                sealed.blocks,
                part=i,
                template=sealed.template,
                footer=_CONTINUED,
                streaming=False,
            )
            for i, sealed in enumerate(self._sealed, start=1)
        ]
        cards.append(
            self._card(
                self._open_blocks(),
                part=total if total > 1 else 0,
                template=_TEMPLATES[self.state],
                footer=_FOOTERS[self.state],
                buttons=self._buttons(self.state),
                streaming=self.state is TurnState.WORKING,
            )
        )
        return cards

    def _buttons(self, state: TurnState) -> list[Element]:
        """Esc, Screenshot and Ctrl-C (asked again first) while the turn works."""
        if self.keys is None or state is not TurnState.WORKING:
            return []
        value = {**self.keys, "k": ClickKind.KEY.value}
        stop = Confirm(
            title="Send Ctrl-C?",
            text="Ctrl-C stops what the agent is running; some agents exit on it.",
        )
        return [button_row([
            button("Esc", {**value, "key": "esc"}),
            button("Screenshot", {**value, "key": "screenshot"}),
            button("Ctrl-C", {**value, "key": "ctrl-c"}, style=ButtonStyle.DANGER, confirm=stop),
        ])]  # fmt: skip

    def _open_blocks(self) -> list[Block]:
        return [block for _, block in self._open_parts()]

    def _open_parts(self) -> list[tuple[int, Block]]:
        """(index of its entry in _open, block) for every block not yet in a sealed card."""
        parts: list[tuple[int, Block]] = []
        for index, entry in enumerate(self._open):
            start = self._skip if index == 0 else 0
            parts += [(index, b) for b in entry_blocks(entry, verbose=self.verbose, start=start)]
        return parts

    def _settled(self) -> TurnCard:
        """Seal full cards until the open blocks fit in one card."""
        turn = self
        while True:
            parts = turn._open_parts()
            first = _first_card([block for _, block in parts], room=turn._room())
            if first == len(parts):
                return turn
            entry_index = parts[first][0]
            offset = first - sum(1 for index, _ in parts[:first] if index < entry_index)
            skip = (turn._skip if entry_index == 0 else 0) + offset
            sealed = _Sealed(
                blocks=tuple(block for _, block in parts[:first]),
                template=_TEMPLATES[turn.state],
            )
            turn = replace(
                turn,
                _sealed=(*turn._sealed, sealed),
                _open=turn._open[entry_index:],
                _skip=skip,
            )

    def _room(self) -> int:
        """Bytes the blocks of one card may cost: the budget less the card's frame."""
        frame = card(
            title=self.title,
            template=HeaderTemplate.TURQUOISE,  # the longest colour name
            elements=[
                *self._buttons(TurnState.WORKING),
                note(max((*_FOOTERS.values(), _CONTINUED), key=utf8_len)),
            ],
            subtitle="part 99999",
            summary=self.title,
        )
        return self.budget_bytes - wire_bytes(frame) - _SLACK

    def _card(
        self,
        blocks: Sequence[Block],
        *,
        part: int,
        template: HeaderTemplate,
        footer: str,
        buttons: Sequence[Element] = (),
        streaming: bool,
    ) -> CardJson:
        return card(
            title=self.title,
            template=template,
            elements=[*_elements(blocks), *buttons, note(footer)],
            subtitle=f"part {part}" if part else "",
            summary=self.title,
            streaming=streaming,
        )


def _block_cost(block: Block) -> tuple[int, int]:
    """(wire bytes including the separator, elements) of a block alone in its element."""
    element = block_element(block)
    return wire_bytes(element) + 2, 1 if block.panel_title is None else 2


def _first_card(blocks: Sequence[Block], *, room: int) -> int:
    """How many of blocks the first card takes: all of them when they fit.

    Costs are counted as if no blocks were merged, which only over-counts.
    """
    size = elements = tables = 0
    for count, block in enumerate(blocks):
        cost, nested = _block_cost(block)
        full = (
            size + cost > room
            or elements + nested > MAX_CARD_ELEMENTS - 1  # the footer is one more
            or tables + block.tables > MAX_TABLES_PER_CARD
        )
        if full and count > 0:
            return count
        size, elements, tables = size + cost, elements + nested, tables + block.tables
    return len(blocks)


def _elements(blocks: Sequence[Block]) -> list[Element]:
    """Card elements; adjacent markdown blocks share one element while it stays small."""
    elements: list[Element] = []
    content: str | None = None
    previous: Block | None = None
    for block in blocks:
        if block.panel_title is not None:
            if content is not None:
                elements.append(markdown(content))
            elements.append(block_element(block))
            content, previous = None, None
            continue
        joiner = "\n" if previous is not None and previous.tight and block.tight else "\n\n"
        merged = block.content if content is None else content + joiner + block.content
        if content is not None and utf8_len(merged) > MARKDOWN_ELEMENT_BYTES:
            elements.append(markdown(content))
            merged = block.content
        content, previous = merged, block
    if content is not None:
        elements.append(markdown(content))
    return elements
