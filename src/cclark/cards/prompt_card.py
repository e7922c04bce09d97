"""The card that shows a question the agent's screen is asking, and its answered variants.

Owns the layout of a prompt card: kind title, the agent's question, the body (commands in a
code block), the numbered options exactly as the CLI offers them, the "reply with a number"
line, and how an answer is shown. Pure; knows nothing of answering, timeouts or sending.
Every kind (permission, trust, plan, question, limit, other) is shown the same way and left to the
user: nothing here implies an automatic answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cclark.cards.buttons import ButtonStyle, button, button_row
from cclark.cards.chunks import split_markdown
from cclark.cards.elements import (
    MARKDOWN_ELEMENT_BYTES,
    SAFE_CARD_BYTES,
    CardJson,
    Element,
    HeaderTemplate,
    card,
    code_block,
    escape_markdown,
    markdown,
    note,
    utf8_len,
    wire_bytes,
)
from unified_icc import PromptInfo, PromptKind, PromptOption

__all__ = [
    "KIND_TITLES",
    "PROMPT_BODY_BYTES",
    "answered_prompt_card",
    "prompt_card",
    "reply_hint",
]

PROMPT_BODY_BYTES: Final = 3_000
"""UTF-8 bytes of rendered body markdown shown; a longer body ends with a "more lines" note."""

KIND_TITLES: Final = {
    PromptKind.PERMISSION: "🔐 Permission needed",
    PromptKind.TRUST: "📁 Trust this folder?",
    PromptKind.PLAN: "📋 Plan ready for review",
    PromptKind.QUESTION: "❓ The agent has a question",
    PromptKind.LIMIT: "🚫 Usage limit reached",
    PromptKind.OTHER: "⌛ The agent is waiting for you",
}

_SHELL_TITLE: Final = re.compile(r"\b(bash|shell|command)\b", re.IGNORECASE)
_REFUSAL: Final = re.compile(r"\s*(no|deny|reject|cancel)\b", re.IGNORECASE)
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t]*\n")
_FOOTER: Final = "Nothing is answered automatically: reply here or answer in the terminal."


def prompt_card(
    prompt: PromptInfo, *, window_label: str, click: Mapping[str, Any] | None = None
) -> CardJson:
    """An orange card asking the user to pick one of the prompt's numbered options.

    With click (the value every button carries), each option is also a button whose value
    adds ``n``, the option's number; typing the number works either way.
    """
    tail = [markdown(f"**{reply_hint(prompt.options)}**"), note(_FOOTER)]
    if click is not None and prompt.options:
        tail.insert(0, option_buttons(prompt.options, click))
    return _bounded(
        prompt,
        window_label=window_label,
        template=HeaderTemplate.ORANGE,
        options=_option_lines(prompt.options, chosen=None),
        tail=tail,
    )


def answered_prompt_card(
    prompt: PromptInfo, *, choice: int | None, by: str, window_label: str = ""
) -> CardJson:
    """The prompt card patched once answered: by whom and what (green), or in the terminal.

    choice is the option number picked from chat, or None when the prompt went away without
    one (answered in the terminal, grey). by is who answered as shown, e.g. "You" or a name.
    """
    if choice is None:
        outcome, template = "⌨️ Answered in the terminal", HeaderTemplate.GREY
    else:
        picked = next((o for o in prompt.options if o.number == choice), None)
        label = f"**{choice}.** {escape_markdown(picked.label)}" if picked else f"**{choice}**"
        who = escape_markdown(by.strip() or "You")
        outcome, template = f"✅ {who} chose {label}", HeaderTemplate.GREEN
    return _bounded(
        prompt,
        window_label=window_label,
        template=template,
        options=_option_lines(prompt.options, chosen=choice),
        tail=[markdown(outcome)],
    )


def option_buttons(options: Sequence[PromptOption], click: Mapping[str, Any]) -> Element:
    """One button per option: the first is the primary one, a refusal is shown as one."""
    buttons = [
        button(
            f"{option.number}. {option.label}",
            {**click, "n": option.number},
            style=ButtonStyle.PRIMARY if index == 0 else _style(option.label),
        )
        for index, option in enumerate(options)
    ]
    return button_row(buttons)


def _style(label: str) -> ButtonStyle:
    return ButtonStyle.DANGER if _REFUSAL.match(label) else ButtonStyle.DEFAULT


def reply_hint(options: Sequence[PromptOption]) -> str:
    """``Reply with a number (1-3)`` (an en dash), naming exactly the numbers offered."""
    numbers = sorted({option.number for option in options})
    if not numbers:
        return "No numbered options: answer in the terminal"
    if len(numbers) == 1:
        return f"Reply with the number {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"Reply with a number ({numbers[0]}\u2013{numbers[-1]})"
    listed = ", ".join(str(n) for n in numbers[:-1])
    return f"Reply with a number ({listed} or {numbers[-1]})"


def _bounded(
    prompt: PromptInfo,
    *,
    window_label: str,
    template: HeaderTemplate,
    options: str,
    tail: list[Element],
) -> CardJson:
    """The card, with the body shortened until the card fits SAFE_CARD_BYTES."""
    limit = PROMPT_BODY_BYTES
    while True:
        elements: list[Element] = []
        if prompt.title.strip():
            elements.append(markdown(f"**{escape_markdown(prompt.title.strip())}**"))
        elements += [markdown(c) for c in _body_chunks(prompt, limit=limit)]
        if options:
            elements.append(markdown(options))
        result = card(
            title=KIND_TITLES[prompt.kind],
            template=template,
            elements=[*elements, *tail],
            subtitle=window_label,
            summary=KIND_TITLES[prompt.kind],
        )
        if wire_bytes(result) <= SAFE_CARD_BYTES or limit <= 0:
            return result
        limit //= 2


def _option_lines(options: Sequence[PromptOption], *, chosen: int | None) -> str:
    """One line per option, as the CLI numbers and words it; the cursor or choice marked."""
    lines = []
    for option in options:
        text = f"**{option.number}.** {escape_markdown(option.label)}"
        if chosen is None:
            lines.append(f"\u276f {text}" if option.selected else text)
        else:
            lines.append(f"✓ {text}" if option.number == chosen else text)
    return "\n".join(lines)


def _body_chunks(prompt: PromptInfo, *, limit: int) -> list[str]:
    """The body as markdown of at most limit bytes, split into element-sized chunks."""
    lines = prompt.body.strip("\n").splitlines()
    kept = len(lines)
    body = _body_markdown(lines, prompt.title)
    while kept and utf8_len(body) > limit:
        kept = kept * 3 // 4
        body = _body_markdown(lines[:kept], prompt.title)
    if kept < len(lines):
        more = len(lines) - kept
        body += f"\n\n*… ({more} more line{'s' if more != 1 else ''}: see the terminal)*"
    return [c.strip("\n") for c in split_markdown(body, limit=MARKDOWN_ELEMENT_BYTES) if c.strip()]


def _body_markdown(lines: Sequence[str], title: str) -> str:
    """Paragraphs as escaped text; command lines in a bash code block.

    A command is a run of lines starting with ``$ ``; when there is none and the title names
    a shell tool (Claude's "Bash command", Gemini's "Shell"), the first paragraph is the
    command, less its trailing lines that ask a question.
    """
    paragraphs = [p for p in _PARAGRAPH_BREAK.split("\n".join(lines)) if p.strip()]
    dollar = any(line.lstrip().startswith("$ ") for line in lines)
    out: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if dollar:
            out += _dollar_runs(paragraph.splitlines())
        elif index == 0 and _SHELL_TITLE.search(title):
            out += _command_paragraph(paragraph.splitlines())
        else:
            out.append(escape_markdown(paragraph))
    return "\n\n".join(out)


def _dollar_runs(lines: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    text: list[str] = []
    for line in [*lines, ""]:
        is_command = line.lstrip().startswith("$ ")
        if is_command and text:
            out.append(escape_markdown("\n".join(text)))
            text = []
        if not is_command and run:
            out.append(code_block("\n".join(run), language="bash"))
            run = []
        (run if is_command else text).append(line)
    if "\n".join(text).strip():
        out.append(escape_markdown("\n".join(text).strip("\n")))
    return out


def _command_paragraph(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 1 and lines[end - 1].rstrip().endswith("?"):
        end -= 1
    out = [code_block("\n".join(_dedent(lines[:end])), language="bash")]
    if end < len(lines):
        out.append(escape_markdown("\n".join(lines[end:]).strip()))
    return out


def _dedent(lines: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] for line in lines]
