"""How each transcript message of a turn looks in a turn card, as a list of blocks.

Owns the entries a turn accumulates (tool results paired with their calls) and the blocks each
entry renders to: assistant markdown, compact tool lines with shortened results, thinking as a
placeholder or a collapsed panel. Knows nothing of card boundaries, headers or sending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from cclark.cards.chunks import count_tables, split_markdown
from cclark.cards.elements import (
    MARKDOWN_ELEMENT_BYTES,
    Element,
    clean_text,
    code_block,
    escape_markdown,
    markdown,
    panel,
    sanitize_markdown,
)
from unified_icc import AgentMessage, MessageKind, MessageRole

__all__ = [
    "RESULT_LINE_CHARS",
    "RESULT_PREVIEW_LINES",
    "Block",
    "Entry",
    "block_element",
    "entry_blocks",
    "fold",
]

RESULT_PREVIEW_LINES: Final = 4
"""Lines of a tool result shown under its call when not verbose."""

RESULT_LINE_CHARS: Final = 160
"""Characters kept of each shown result line (and of a tool call line, times two)."""

_ERROR_PREFIX: Final = "[error] "  # unified_icc's mark of a failed or rejected tool result
_THINKING: Final = "💭 *thinking…*"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One message of the turn; a tool call carries its result once it arrived."""

    kind: MessageKind
    role: MessageRole
    text: str
    tool_name: str | None = None
    tool_id: str | None = None
    result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """What becomes one card element: markdown, or a collapsed panel holding markdown."""

    content: str
    panel_title: str | None = None
    tight: bool = False  # joins a tight block before it with a single newline
    tables: int = 0


def fold(entries: Sequence[Entry], messages: Iterable[AgentMessage]) -> tuple[Entry, ...]:
    """Entries with messages appended; a tool result fills its open call's result."""
    out = list(entries)
    for message in messages:
        if message.kind is MessageKind.OUTPUT and out and out[-1].kind is MessageKind.OUTPUT:
            out[-1] = replace(out[-1], text=f"{out[-1].text}\n{message.text}")
            continue  # a shell's output stays one code block
        if message.kind is MessageKind.TOOL_RESULT and message.tool_id:
            index = _open_call(out, message.tool_id)
            if index is not None:
                out[index] = replace(out[index], result=message.text)
                continue
        out.append(
            Entry(
                kind=message.kind,
                role=message.role,
                text=message.text,
                tool_name=message.tool_name,
                tool_id=message.tool_id,
            )
        )
    return tuple(out)


def _open_call(entries: Sequence[Entry], tool_id: str) -> int | None:
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if entry.kind is MessageKind.TOOL_USE and entry.tool_id == tool_id:
            return index if entry.result is None else None
    return None


def entry_blocks(entry: Entry, *, verbose: bool, start: int = 0) -> list[Block]:
    """The blocks of entry from index start; their number never depends on start.

    A tool call whose call line is already in an earlier card (start > 0) labels its result.
    """
    blocks: list[Block]
    match entry.kind:
        case MessageKind.TOOL_USE:
            blocks = [Block(content=_call_line(entry), tight=True)]
            if entry.result is not None:
                label = start > 0
                blocks += _result_blocks(entry.result, entry.tool_name, verbose, label=label)
        case MessageKind.TOOL_RESULT:
            blocks = _result_blocks(entry.text, entry.tool_name, verbose, label=True)
        case MessageKind.THINKING:
            blocks = _thinking_blocks(entry.text) if verbose else [Block(content=_THINKING)]
        case MessageKind.OUTPUT:
            blocks = _markdown_blocks(code_block(clean_text(entry.text).strip("\n")))
        case MessageKind.TEXT if entry.role is MessageRole.ASSISTANT:
            blocks = _markdown_blocks(sanitize_markdown(entry.text))
        case MessageKind.API_ERROR:
            blocks = _markdown_blocks(escape_markdown(entry.text), prefix="⚠️ ")
        case _:  # what the user typed, a slash command or a CLI notice: shown as typed
            blocks = _markdown_blocks(escape_markdown(entry.text), prefix="👤 ")
    return blocks[start:]


def block_element(block: Block) -> Element:
    """The card element of one block."""
    element = markdown(block.content)
    return element if block.panel_title is None else panel(block.panel_title, [element])


def _markdown_blocks(text: str, *, prefix: str = "") -> list[Block]:
    chunks = split_markdown(text.strip("\n"), limit=MARKDOWN_ELEMENT_BYTES - len(prefix) * 4)
    return [
        Block(content=(prefix if i == 0 else "") + chunk.strip("\n"), tables=count_tables(chunk))
        for i, chunk in enumerate(chunks)
        if chunk.strip()
    ]


def _call_line(entry: Entry) -> str:
    text = " ⏎ ".join(line.strip() for line in clean_text(entry.text).splitlines() if line.strip())
    text = _shorten(text, RESULT_LINE_CHARS * 2)
    name = entry.tool_name
    if name and text.startswith(f"{name}:"):
        return f"▸ **{escape_markdown(name)}**:{escape_markdown(text[len(name) + 1 :])}"
    return f"▸ {escape_markdown(text or name or 'tool')}"


def _result_blocks(
    result: str, tool_name: str | None, verbose: bool, *, label: bool
) -> list[Block]:
    failed = result.startswith(_ERROR_PREFIX)
    body = clean_text(result.removeprefix(_ERROR_PREFIX)).strip("\n")
    name = tool_name or "tool"
    if verbose:
        return _panel_blocks(f"{'❌' if failed else '⎿'} {name} result", code_block(body))
    lines = body.splitlines() or [""]
    shown = [_shorten(line, RESULT_LINE_CHARS) for line in lines[:RESULT_PREVIEW_LINES]]
    more = len(lines) - len(shown)
    head = f"▸ **{escape_markdown(name)}** result\n" if label else ""
    if len(shown) == 1 and not more:
        mark = "⎿ ❌ " if failed else "⎿ "
        return [Block(content=f"{head}{mark}{escape_markdown(shown[0])}", tight=True)]
    failure = "⎿ ❌ *failed*\n" if failed else ""
    tail = f"\n… ({more} more line{'s' if more != 1 else ''})" if more else ""
    content = f"{head}{failure}{code_block(chr(10).join(shown))}{tail}"
    return [Block(content=content, tight=True)]


def _thinking_blocks(text: str) -> list[Block]:
    return _panel_blocks("💭 Thinking", sanitize_markdown(clean_text(text).strip("\n")))


def _panel_blocks(title: str, content: str) -> list[Block]:
    chunks = [c for c in split_markdown(content, limit=MARKDOWN_ELEMENT_BYTES) if c.strip()]
    total = len(chunks)
    return [
        Block(
            content=chunk.strip("\n"),
            panel_title=title if total == 1 else f"{title} ({i}/{total})",
            tables=count_tables(chunk),
        )
        for i, chunk in enumerate(chunks, start=1)
    ] or [Block(content="*(empty)*", panel_title=title)]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
