"""Card builders: turn cards (accumulated, split, never cut), prompt cards, escaping."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import pytest

from cclark.cards import (
    CARD_LIMIT_BYTES,
    MARKDOWN_ELEMENT_BYTES,
    SAFE_CARD_BYTES,
    TurnCard,
    answered_prompt_card,
    escape_markdown,
    prompt_card,
    reply_hint,
    sanitize_markdown,
    turn_title,
    wire_bytes,
)
from cclark.cards.chunks import count_tables, split_markdown
from feishu_emulator.cards import card_problem
from unified_icc import (
    AgentMessage,
    MessageKind,
    MessageRole,
    PromptInfo,
    PromptKind,
    PromptOption,
)

TITLE = turn_title("claude", "my-project")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


# ---------------------------------------------------------------------------- helpers


def text(body: str, mid: str = "t") -> AgentMessage:
    return AgentMessage(id=mid, role=MessageRole.ASSISTANT, kind=MessageKind.TEXT, text=body)


def thinking(body: str, mid: str = "k") -> AgentMessage:
    return AgentMessage(id=mid, role=MessageRole.ASSISTANT, kind=MessageKind.THINKING, text=body)


def call(summary: str, tool_id: str, name: str = "Bash") -> AgentMessage:
    return AgentMessage(
        id=f"u{tool_id}",
        role=MessageRole.ASSISTANT,
        kind=MessageKind.TOOL_USE,
        text=summary,
        tool_name=name,
        tool_id=tool_id,
    )


def result(body: str, tool_id: str, name: str = "Bash") -> AgentMessage:
    return AgentMessage(
        id=f"r{tool_id}",
        role=MessageRole.ASSISTANT,
        kind=MessageKind.TOOL_RESULT,
        text=body,
        tool_name=name,
        tool_id=tool_id,
    )


def markdowns(card: dict[str, Any]) -> list[str]:
    """Every markdown content of the card, panels included, footer excluded."""
    out: list[str] = []

    def walk(elements: Sequence[dict[str, Any]]) -> None:
        for element in elements:
            if element["tag"] == "markdown" and element.get("text_size") != "notation":
                out.append(element["content"])
            walk(element.get("elements", []))

    walk(card["body"]["elements"])
    return out


def panels(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"]["elements"] if e["tag"] == "collapsible_panel"]


def body_text(cards: Sequence[dict[str, Any]]) -> str:
    return "\n".join(content for c in cards for content in markdowns(c))


def fences_balanced(content: str) -> bool:
    open_fence: str | None = None
    for line in content.split("\n"):
        match = FENCE.match(line)
        if open_fence is None and match:
            open_fence = match[1]
        elif (
            open_fence is not None
            and set(line.strip()) == {open_fence[0]}
            and len(line.strip()) >= len(open_fence)
        ):
            open_fence = None
    return open_fence is None


def request_body_bytes(card: dict[str, Any]) -> int:
    """The size of the send request's body, serialised as the REST client and SDK do."""
    content = json.dumps(card, ensure_ascii=False)
    body = {"receive_id": "oc_" + "x" * 32, "msg_type": "interactive", "content": content}
    return len(json.dumps({**body, "uuid": "u" * 36}, ensure_ascii=False).encode("utf-8"))


def assert_valid(card: dict[str, Any]) -> None:
    assert card_problem(json.dumps(card, ensure_ascii=False)) is None
    assert wire_bytes(card) <= SAFE_CARD_BYTES
    assert request_body_bytes(card) < CARD_LIMIT_BYTES
    for content in markdowns(card):
        assert len(content.encode("utf-8")) <= MARKDOWN_ELEMENT_BYTES
        assert fences_balanced(content), content
    assert sum(count_tables(c) for c in markdowns(card)) <= 5


def turn(messages: Sequence[AgentMessage], *, verbose: bool = False) -> TurnCard:
    return TurnCard(title=TITLE, verbose=verbose).add(messages)


# ---------------------------------------------------------------------------- turn cards


class TurnCase(NamedTuple):
    test_id: str
    messages: list[AgentMessage]
    verbose: bool
    shown: list[str]  # fragments expected in the card, in this order
    hidden: list[str]  # fragments that must not appear


TURN_CASES = [
    TurnCase(
        "simple_text",
        [text("Hello **world**, here is `code`.")],
        False,
        ["Hello **world**, here is `code`."],
        [],
    ),
    TurnCase(
        "tools_paired_in_order",
        [
            text("Let me look.", "a"),
            call("Bash: touch x", "1"),
            call("Read: a.py", "2", name="Read"),
            result("(no output)", "1"),
            result("print('hi')", "2", name="Read"),
            text("Done.", "b"),
        ],
        False,
        [
            "Let me look.",
            "▸ **Bash**: touch x",
            "⎿ (no output)",
            "▸ **Read**: a.py",
            "⎿ print('hi')",
            "Done.",
        ],
        [],
    ),
    TurnCase(
        "long_result_shortened",
        [call("Bash: seq 10", "1"), result("\n".join(f"line {i}" for i in range(1, 11)), "1")],
        False,
        ["▸ **Bash**: seq 10", "line 1\nline 2\nline 3\nline 4", "… (6 more lines)"],
        ["line 5"],
    ),
    TurnCase(
        "failed_result_marked",
        [call("Bash: false", "1"), result("[error] exit code 1", "1")],
        False,
        ["▸ **Bash**: false", "❌ exit code 1"],
        ["[error]"],
    ),
    TurnCase(
        "result_without_call_is_labelled",
        [result("orphan output", "9", name="Grep")],
        False,
        ["▸ **Grep** result", "⎿ orphan output"],
        [],
    ),
    TurnCase(
        "thinking_hidden",
        [thinking("secret chain of thought"), text("Answer.")],
        False,
        ["💭 *thinking…*", "Answer."],
        ["secret chain of thought"],
    ),
    TurnCase(
        "thinking_verbose",
        [thinking("secret chain of thought"), text("Answer.")],
        True,
        ["secret chain of thought", "Answer."],
        ["*thinking…*"],
    ),
    TurnCase(
        "verbose_result_whole",
        [call("Bash: seq 10", "1"), result("\n".join(f"line {i}" for i in range(1, 11)), "1")],
        True,
        ["▸ **Bash**: seq 10", "line 1\nline 2", "line 9\nline 10"],
        ["more lines"],
    ),
]


@pytest.mark.parametrize("case", TURN_CASES, ids=[c.test_id for c in TURN_CASES])
def test_turn_card_shows_messages(case: TurnCase) -> None:
    cards = turn(case.messages, verbose=case.verbose).render()

    assert len(cards) == 1
    assert_valid(cards[0])
    assert cards[0]["header"]["title"]["content"] == "claude · my-project"
    shown = body_text(cards)
    positions = [shown.find(fragment) for fragment in case.shown]
    assert all(p >= 0 for p in positions), (positions, shown)
    assert positions == sorted(positions)
    for fragment in case.hidden:
        assert fragment not in shown


def test_turn_card_verbose_puts_thinking_and_results_in_collapsed_panels() -> None:
    messages = [thinking("ponder"), call("Bash: ls", "1"), result("a\nb", "1")]
    card = turn(messages, verbose=True).render()[0]

    titles = [p["header"]["title"]["content"] for p in panels(card)]
    assert titles == ["💭 Thinking", "⎿ Bash result"]
    assert all(p["expanded"] is False for p in panels(card))


def test_turn_card_keeps_earlier_parts_as_messages_arrive() -> None:
    card = TurnCard(title=TITLE)
    for message in [
        text("First part.", "a"),
        call("Bash: make", "1"),
        result("built", "1"),
        text("Second part.", "b"),
    ]:
        card = card.add([message])

    shown = body_text(card.render())
    assert shown.index("First part.") < shown.index("▸ **Bash**: make")
    assert shown.index("⎿ built") < shown.index("Second part.")


class StateCase(NamedTuple):
    test_id: str
    ok: bool | None  # None: still working
    template: str
    footer: str


STATE_CASES = [
    StateCase("working", None, "blue", "working"),
    StateCase("done", True, "green", "done"),
    StateCase("error", False, "red", "error"),
]


@pytest.mark.parametrize("case", STATE_CASES, ids=[c.test_id for c in STATE_CASES])
def test_turn_card_header_colour_follows_state(case: StateCase) -> None:
    card = turn([text("hi")])
    if case.ok is not None:
        card = card.finish(ok=case.ok)

    rendered = card.render()[0]
    assert rendered["header"]["template"] == case.template
    assert case.footer in rendered["body"]["elements"][-1]["content"]


def huge_turn_messages() -> list[AgentMessage]:
    """About 200 KB: prose, tool calls with long results, and one code block of ~60 KB."""
    messages: list[AgentMessage] = []
    for i in range(40):
        prose = "\n\n".join(f"Paragraph {i}.{p}: " + "lorem ipsum " * 40 for p in range(6))
        messages.append(text(prose, f"p{i}"))
        messages.append(call(f"Bash: step {i}", f"s{i}"))
        messages.append(result("\n".join(f"out {i}.{k}" for k in range(30)), f"s{i}"))
    code = "\n".join(f"value_{n} = {n}  # 中文注释 {n}" for n in range(2000))
    messages.append(text(f"The whole module:\n\n```python\n{code}\n```\n\nThat is all.", "code"))
    return messages


def test_turn_card_far_beyond_the_limit_splits_into_valid_cards() -> None:
    messages = huge_turn_messages()
    cards = turn(messages).finish().render()

    assert len(cards) >= 8
    for card in cards:
        assert_valid(card)
    assert [c["header"]["subtitle"]["content"] for c in cards] == [
        f"part {i}" for i in range(1, len(cards) + 1)
    ]
    assert all(c["header"]["template"] == "blue" for c in cards[:-1])
    assert cards[-1]["header"]["template"] == "green"


def test_turn_card_split_loses_nothing_and_keeps_fences_whole() -> None:
    messages = huge_turn_messages()
    cards = turn(messages).render()
    shown = body_text(cards)

    for message in messages:
        if message.kind is MessageKind.TEXT:
            for line in message.text.splitlines():
                assert line in shown, line
        if message.kind is MessageKind.TOOL_USE:
            assert message.text.split(": ", 1)[1] in shown
    code_cards = [c for c in cards if "value_1500 = 1500" in body_text([c])]
    assert code_cards
    assert markdowns(code_cards[0])[0].startswith("```python\n")  # reopened with its language


def test_turn_card_earlier_cards_are_final_once_a_newer_card_exists() -> None:
    card = TurnCard(title=TITLE)
    first_seen: dict[int, dict[str, Any]] = {}
    for message in huge_turn_messages():
        card = card.add([message])
        rendered = card.render()
        for index in range(len(rendered) - 1):
            first_seen.setdefault(index, rendered[index])

    final = card.finish(ok=False).render()
    assert len(first_seen) == len(final) - 1 >= 2
    for index, seen in first_seen.items():
        assert final[index] == seen


def test_turn_card_same_content_added_at_once_or_one_by_one_renders_the_same_text() -> None:
    messages = huge_turn_messages()[:30]
    at_once = turn(messages).render()
    one_by_one = TurnCard(title=TITLE)
    for message in messages:
        one_by_one = one_by_one.add([message])

    assert body_text(at_once).replace("\n", "") == body_text(one_by_one.render()).replace("\n", "")


# ---------------------------------------------------------------------------- injection


INJECTIONS = [
    ("mention_all", "Ping <at id=all></at> everyone"),
    ("font_unclosed", "<font color='red'>all red from here"),
    ("unclosed_fence", "Start\n```bash\nrm -rf /\nno closing fence"),
    ("json_breakers", 'quote " backslash \\ and "}]} closers'),
    ("control_chars", "bell \x07 escape \x1b[31mred\x1b[0m nul \x00 end"),
    ("many_tables", "\n\n".join("| a | b |\n|---|---|\n| 1 | 2 |" for _ in range(8))),
]


@pytest.mark.parametrize(("test_id", "payload"), INJECTIONS, ids=[i[0] for i in INJECTIONS])
def test_turn_card_agent_text_cannot_break_the_card(test_id: str, payload: str) -> None:
    messages = [
        text(payload, "a"),
        call(f"Bash: echo '{payload}'", "1"),
        result(payload, "1"),
        text("After.", "b"),
    ]
    cards = turn(messages).render()

    for card in cards:
        assert_valid(card)
        for content in markdowns(card):
            assert "<at" not in content
            assert "<font color='red'>" not in content
            assert "\x1b" not in content
            assert "\x00" not in content
    shown = body_text(cards)
    after = shown.index("After.")
    assert fences_balanced(shown[:after])  # "After." is not swallowed by an open fence
    assert shown.index("▸ **Bash**") < after


class EscapeCase(NamedTuple):
    test_id: str
    raw: str
    escaped: str  # escape_markdown
    sanitized: str  # sanitize_markdown


ESCAPE_CASES = [
    EscapeCase("plain", "just text", "just text", "just text"),
    EscapeCase(
        "tags", "<at id=all></at>", "&#60;at id=all&#62;&#60;/at&#62;", "&#60;at id=all>&#60;/at>"
    ),
    EscapeCase("code_span_kept", "use `a<b` here", "use `a&#60;b` here", "use `a<b` here"),
    EscapeCase("fence_line", "```\nx", "\u200b```\nx", "```\nx\n```"),
    EscapeCase("blockquote", "> quoted", "&#62; quoted", "> quoted"),
    EscapeCase("ansi", "\x1b[1mbold\x1b[0m", "bold", "bold"),
]  # fmt: skip


@pytest.mark.parametrize("case", ESCAPE_CASES, ids=[c.test_id for c in ESCAPE_CASES])
def test_escaping_rules(case: EscapeCase) -> None:
    assert escape_markdown(case.raw) == case.escaped
    assert sanitize_markdown(case.raw) == case.sanitized


def test_split_markdown_reopens_a_long_fence_with_its_language() -> None:
    code = "\n".join(f"line {n}" for n in range(500))
    source = f"intro\n\n```rust\n{code}\n```\n\noutro\n"

    chunks = split_markdown(source, limit=1000)

    assert len(chunks) > 3
    assert all(len(c.encode("utf-8")) <= 1000 and fences_balanced(c) for c in chunks)
    assert all(c.startswith("```rust\n") for c in chunks[2:-1])
    rejoined = "".join(chunks).replace("```\n```rust\n", "")
    assert rejoined == source


# ---------------------------------------------------------------------------- prompt cards


def options(
    *labels: str, selected: int = 1, numbers: Sequence[int] = ()
) -> tuple[PromptOption, ...]:
    nums = list(numbers) or list(range(1, len(labels) + 1))
    return tuple(
        PromptOption(number=n, label=label, selected=n == selected)
        for n, label in zip(nums, labels, strict=True)
    )


CLAUDE_BASH = PromptInfo(
    kind=PromptKind.PERMISSION,
    title="Bash command",
    body="  touch x.txt\n  Run requested command\n\nDo you want to proceed?",
    options=options("Yes", "Yes, and always allow access to ccwork/ from this project", "No"),
)
CODEX_RUN = PromptInfo(
    kind=PromptKind.PERMISSION,
    title="Would you like to run the following command?",
    body="Environment: local\n\nReason: wants to run outside the sandbox\n\n$ touch c.txt",
    options=options(
        "Yes, proceed (y)",
        "Yes, and don't ask again for commands that start with `touch c.txt` (p)",
        "No, and tell Codex what to do differently (esc)",
    ),
)


class PromptCase(NamedTuple):
    test_id: str
    prompt: PromptInfo
    header: str
    command: str | None  # expected inside a code block


PROMPT_CASES = [
    PromptCase("claude_bash", CLAUDE_BASH, "Permission needed", "touch x.txt"),
    PromptCase("codex_dollar", CODEX_RUN, "Permission needed", "$ touch c.txt"),
    PromptCase(
        "trust",
        PromptInfo(
            kind=PromptKind.TRUST,
            title="Accessing workspace:",
            body="/srv/work\n\nDo you trust the files in this folder?",
            options=options("Yes, I trust this folder", "No, exit"),
        ),
        "Trust this folder?",
        None,
    ),
    PromptCase(
        "plan",
        PromptInfo(
            kind=PromptKind.PLAN,
            title="Ready to code?",
            body="1. edit a.py\n2. run tests",
            options=options("Yes", "No, keep planning"),
        ),
        "Plan ready for review",
        None,
    ),
    PromptCase(
        "question",
        PromptInfo(
            kind=PromptKind.QUESTION,
            title="Which database?",
            body="",
            options=options("Postgres", "SQLite", "Other"),
        ),
        "question",
        None,
    ),
    PromptCase(
        "other",
        PromptInfo(kind=PromptKind.OTHER, title="Something new", body="?", options=options("A")),
        "waiting for you",
        None,
    ),
]


@pytest.mark.parametrize("case", PROMPT_CASES, ids=[c.test_id for c in PROMPT_CASES])
def test_prompt_card_shows_options_exactly_as_offered(case: PromptCase) -> None:
    card = prompt_card(case.prompt, window_label="claude · my-project")

    assert_valid(card)
    assert card["header"]["template"] == "orange"
    assert case.header in card["header"]["title"]["content"]
    assert card["header"]["subtitle"]["content"] == "claude · my-project"
    shown = body_text([card])
    option_lines = [line for line in shown.split("\n") if re.search(r"\*\*\d+\.\*\*", line)]
    assert [re.sub(r"^\u276f ", "", line) for line in option_lines] == [
        f"**{o.number}.** {o.label}" for o in case.prompt.options
    ]
    assert option_lines[0].startswith("\u276f ")  # the CLI's cursor
    assert reply_hint(case.prompt.options) in shown
    if case.command is not None:
        assert re.search(r"```bash\n" + re.escape(case.command) + r"\n", shown), shown


class HintCase(NamedTuple):
    test_id: str
    numbers: tuple[int, ...]
    hint: str


HINT_CASES = [
    HintCase("range", (1, 2, 3), "Reply with a number (1\u20133)"),
    HintCase("two", (1, 2), "Reply with a number (1\u20132)"),
    HintCase("gap", (1, 2, 4), "Reply with a number (1, 2 or 4)"),
    HintCase("one", (1,), "Reply with the number 1"),
    HintCase("none", (), "No numbered options: answer in the terminal"),
]


@pytest.mark.parametrize("case", HINT_CASES, ids=[c.test_id for c in HINT_CASES])
def test_reply_hint_lists_the_valid_numbers(case: HintCase) -> None:
    offered = tuple(PromptOption(number=n, label=f"option {n}") for n in case.numbers)
    assert reply_hint(offered) == case.hint


def test_prompt_card_escapes_labels_and_bounds_a_huge_body() -> None:
    prompt = PromptInfo(
        kind=PromptKind.PLAN,
        title="<at id=all></at> plan",
        body="\n".join(f'step {n}: "quote" <b>' for n in range(5000)),
        options=options("Yes <at id=all></at>", "```", numbers=(1, 2)),
    )
    card = prompt_card(prompt, window_label="w")

    assert_valid(card)
    shown = body_text([card])
    assert "<at" not in shown
    assert "more lines: see the terminal" in shown
    assert "**2.** \u200b```" in shown


class AnsweredCase(NamedTuple):
    test_id: str
    choice: int | None
    by: str
    template: str
    outcome: str


ANSWERED_CASES = [
    AnsweredCase("chosen_in_chat", 1, "You", "green", "You chose **1.** Yes"),
    AnsweredCase("chosen_by_name", 3, "Alice", "green", "Alice chose **3.** No"),
    AnsweredCase("terminal", None, "You", "grey", "Answered in the terminal"),
]


@pytest.mark.parametrize("case", ANSWERED_CASES, ids=[c.test_id for c in ANSWERED_CASES])
def test_answered_prompt_card_shows_the_choice(case: AnsweredCase) -> None:
    card = answered_prompt_card(CLAUDE_BASH, choice=case.choice, by=case.by)

    assert_valid(card)
    assert card["header"]["template"] == case.template
    shown = body_text([card])
    assert case.outcome in shown
    assert "Reply with" not in shown
    assert "**2.** Yes, and always allow access to ccwork/ from this project" in shown
    if case.choice is not None:
        assert f"✓ **{case.choice}.**" in shown


def test_turn_card_result_of_a_call_in_a_final_card_is_labelled_in_the_new_card() -> None:
    filler = "\n\n".join("word " * 150 for _ in range(40))  # ~30 KB: fills the first card
    card = turn([call("Bash: make", "1"), text(filler, "a")])
    assert card.card_count == 2
    first = card.render()[0]

    card = card.add([result("built ok", "1")])
    cards = card.render()

    assert cards[0] == first
    assert "▸ **Bash**: make" in body_text(cards[:1])
    assert "▸ **Bash** result\n⎿ built ok" in body_text(cards[1:])
