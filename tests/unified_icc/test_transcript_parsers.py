"""Transcript parsers against captured and synthetic JSONL fixtures (tests/fixtures/transcripts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from unified_icc.errors import UnknownProviderError
from unified_icc.events import AgentMessage, MessageKind, MessageRole
from unified_icc.transcripts import (
    ERROR_PREFIX,
    ClaudeParser,
    CodexParser,
    GeminiParser,
    TranscriptParser,
    parser_for,
    read_session_meta,
)
from unified_icc.transcripts.claude import summarize_tool_use

FIXTURES = Path(__file__).parent.parent / "fixtures" / "transcripts"

USER, ASSISTANT = MessageRole.USER, MessageRole.ASSISTANT
TEXT, THINKING = MessageKind.TEXT, MessageKind.THINKING
TOOL_USE, TOOL_RESULT, LOCAL, INTERRUPT = (
    MessageKind.TOOL_USE,
    MessageKind.TOOL_RESULT,
    MessageKind.LOCAL_COMMAND,
    MessageKind.INTERRUPT,
)

Row = tuple[MessageRole, MessageKind, str, str | None]

REJECTED = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it "
    "was a file edit, the new_string was NOT written to the file). STOP what you are doing and "
    "wait for the user to tell you how to proceed."
)
BASH_DONE = "(Bash completed with no output)"
API_ERROR = MessageKind.API_ERROR
CLAUDE_529 = ("API Error: 529 Fake overload: the API is overloaded. This is a server-side issue, "
              "usually temporary — try again in a moment. If it persists, check your inference "
              "gateway (127.0.0.1:40607).")
CODEX_401 = ("unexpected status 401 Unauthorized: Fake key rejected: invalid x-api-key, url: "
             "http://127.0.0.1:35803/v1/responses")


def parse_file(parser: TranscriptParser, path: Path) -> list[AgentMessage]:
    """The file's messages as the feed reads them: the whole file as one read."""
    messages: list[AgentMessage] = []
    for line in parser.order(tuple(path.read_text(encoding="utf-8").splitlines())):
        messages += parser.parse(line)
    return messages


def rows(messages: list[AgentMessage]) -> list[Row]:
    return [(m.role, m.kind, m.text, m.tool_name) for m in messages]


def bash_turn(command: str, result: str) -> list[Row]:
    return [
        (ASSISTANT, TEXT, "I'll run that command.", None),
        (ASSISTANT, TOOL_USE, f"Bash: {command}", "Bash"),
        (ASSISTANT, TOOL_RESULT, result, "Bash"),
    ]


class FixtureCase(NamedTuple):
    test_id: str
    provider: str
    fixture: str
    expected: list[Row]


FIXTURE_CASES = [
    # Captured in CI (Claude 2.1.197, a photo attached, a busy machine): the reply's entry
    # (10:29:10.421) is in the file before its prompt's (10:29:10.121).
    FixtureCase(
        test_id="claude-prompt-written-after-its-reply",
        provider="claude",
        fixture="claude/prompt-written-after-its-reply.jsonl",
        expected=[
            (USER, TEXT, "@.unified-icc/inbox/20261202-102905-photo.png (sent to you from the "
             "chat)", None),
            (ASSISTANT, TEXT, "FAKE-REPLY: you said '@.unified-icc/inbox/20261202-102905-"
             "photo.png (sent to you from the chat)'", None),
        ],
    ),
    FixtureCase(
        test_id="claude-e2e-with-exit",
        provider="claude",
        fixture="claude/claude-transcript-e2e.jsonl",
        expected=[
            (USER, TEXT, "Say hello DELAY=3", None),
            (ASSISTANT, TEXT, "FAKE-REPLY: you said 'Say hello DELAY=3'", None),
            (USER, TEXT, "BASH: touch x.txt", None),
            *bash_turn("touch x.txt", BASH_DONE),
            (ASSISTANT, TEXT, f"Tool finished (is_error=False): {BASH_DONE}", None),
            (USER, LOCAL, "/exit", None),
            (USER, LOCAL, "Catch you later!", None),
        ],
    ),
    FixtureCase(
        test_id="claude-at-permission-prompt-has-no-tool-use-yet",
        provider="claude",
        fixture="claude/claude-transcript-at-permission-prompt.jsonl",
        expected=[
            (USER, TEXT, "Say hello DELAY=3", None),
            (ASSISTANT, TEXT, "FAKE-REPLY: you said 'Say hello DELAY=3'", None),
            (USER, TEXT, "BASH: touch x.txt", None),
        ],
    ),
    FixtureCase(
        test_id="claude-interactive-with-rejection",
        provider="claude",
        fixture="claude/transcript-interactive.jsonl",
        expected=[
            (USER, TEXT, "Say hello please DELAY=4", None),
            (ASSISTANT, TEXT, "FAKE-REPLY: you said 'Say hello please DELAY=4'", None),
            (USER, TEXT, "Please BASH: touch x.txt", None),
            *bash_turn("touch x.txt", BASH_DONE),
            (ASSISTANT, TEXT, f"Tool finished (is_error=False): {BASH_DONE}", None),
            (USER, TEXT, "BASH: echo hello-from-bash > y.txt", None),
            *bash_turn("echo hello-from-bash > y.txt", BASH_DONE),
            (ASSISTANT, TEXT, f"Tool finished (is_error=False): {BASH_DONE}", None),
            (USER, TEXT, 'BASH: python3 -c "print(42)"', None),
            *bash_turn('python3 -c "print(42)"', ERROR_PREFIX + REJECTED),
            (USER, INTERRUPT, "[Request interrupted by user for tool use]", None),
            (USER, TEXT, 'BASH: python3 -c "print(43)"', None),
            (
                ASSISTANT,
                TEXT,
                "Tool finished (is_error=True): "
                + REJECTED.removesuffix(" tell you how to proceed."),
                None,
            ),
            (USER, TEXT, 'BASH: python3 -c "print(44)"', None),
            *bash_turn('python3 -c "print(44)"', "44"),
            (ASSISTANT, TEXT, "Tool finished (is_error=False): 44", None),
        ],
    ),
    FixtureCase(
        test_id="claude-clear-old-session",
        provider="claude",
        fixture="claude/synthetic-clear-before.jsonl",
        expected=[
            (USER, TEXT, "remember the number 7", None),
            (ASSISTANT, TEXT, "Noted: 7.", None),
        ],
    ),
    FixtureCase(
        test_id="claude-clear-new-session",
        provider="claude",
        fixture="claude/synthetic-clear-after.jsonl",
        expected=[
            (USER, LOCAL, "/clear", None),
            (USER, TEXT, "what number?", None),
            (ASSISTANT, TEXT, "I don't know of any number.", None),
        ],
    ),
    FixtureCase(
        test_id="claude-thinking-reminders-sidechain",
        provider="claude",
        fixture="claude/synthetic-thinking.jsonl",
        expected=[
            (USER, TEXT, "why does the test fail?", None),
            (
                ASSISTANT,
                THINKING,
                "The user asks about a failing test. I should read it first.",
                None,
            ),
            (ASSISTANT, TEXT, "Let me look at the test.", None),
            (ASSISTANT, TOOL_USE, "Read: /srv/work/tests/test_app.py", "Read"),
            (ASSISTANT, TOOL_RESULT, "1\tdef test_add():\n2\t    assert add(1, 2) == 4", "Read"),
            (ASSISTANT, THINKING, "2 + 2 is 4, so the expectation is wrong.", None),
            (ASSISTANT, TEXT, "The test expects add(1, 2) == 4; it should be 3.", None),
        ],
    ),
    FixtureCase(
        test_id="claude-rejected-edit-and-failed-mcp-tool",
        provider="claude",
        fixture="claude/synthetic-rejected-edit.jsonl",
        expected=[
            (USER, TEXT, "rename foo to bar in app.py", None),
            (ASSISTANT, TOOL_USE, "Edit: /srv/work/app.py", "Edit"),
            (ASSISTANT, TOOL_RESULT, ERROR_PREFIX + REJECTED, "Edit"),
            (USER, INTERRUPT, "[Request interrupted by user for tool use]", None),
            (
                ASSISTANT,
                TOOL_USE,
                'mcp__tracker__create_issue: {"labels":["refactor"],"title":"Rename foo"}',
                "mcp__tracker__create_issue",
            ),
            (
                ASSISTANT,
                TOOL_RESULT,
                ERROR_PREFIX + "Error: tracker unreachable",
                "mcp__tracker__create_issue",
            ),
            (USER, INTERRUPT, "[Request interrupted by user]", None),
        ],
    ),
    FixtureCase(
        test_id="claude-local-commands-and-bash-mode",
        provider="claude",
        fixture="claude/synthetic-local-commands.jsonl",
        expected=[
            (USER, LOCAL, "/model sonnet", None),
            (USER, LOCAL, "Set model to Sonnet 4.6", None),
            (USER, LOCAL, "! ls", None),
            (USER, LOCAL, "app.py\ntests", None),
            (USER, TEXT, "use <b>bold</b> in the README", None),
            (USER, TEXT, "what is in this screenshot?", None),
            (USER, TEXT, "[image]", None),
            (USER, LOCAL, "/review src/app.py", None),
        ],
    ),
    FixtureCase(
        test_id="codex-rollout-0.169",
        provider="codex",
        fixture="codex/codex-rollout.jsonl",
        expected=[
            (USER, TEXT, "hello codex tui", None),
            (ASSISTANT, TEXT, "FAKE-CODEX-REPLY: hello codex tui", None),
            (USER, TEXT, "SHELL: touch c.txt ESCALATE", None),
            (ASSISTANT, TOOL_USE, "exec: touch c.txt", "exec_command"),
            (ASSISTANT, TOOL_RESULT, "(no output)", "exec_command"),
            (
                ASSISTANT,
                TEXT,
                "Tool finished: Chunk ID: 2e2f64\nWall time: 0.0000 seconds\n"
                "Process exited with code 0\nOriginal token count: 0\nOutput:",
                None,
            ),
            (USER, TEXT, "wait a bit DELAY=4", None),
            (ASSISTANT, TEXT, "FAKE-CODEX-REPLY: wait a bit DELAY=4", None),
        ],
    ),
    FixtureCase(
        test_id="codex-older-items-and-event-duplicates",
        provider="codex",
        fixture="codex/synthetic-tools.jsonl",
        expected=[
            (USER, TEXT, "make the tests pass", None),
            (ASSISTANT, THINKING, "**Running the tests**\n\nFirst see what fails.", None),
            (ASSISTANT, TOOL_USE, "exec: pytest -q", "shell"),
            (ASSISTANT, TOOL_RESULT, ERROR_PREFIX + "exit code 1\nF\n1 failed in 0.01s", "shell"),
            (ASSISTANT, TOOL_USE, "apply_patch: src/calc.py", "apply_patch"),
            (
                ASSISTANT,
                TOOL_RESULT,
                "Success. Updated the following files:\nM src/calc.py",
                "apply_patch",
            ),
            (ASSISTANT, TOOL_USE, "exec: pytest -q …", "exec_command"),
            (ASSISTANT, TOOL_RESULT, "1 passed in 0.01s\ndone", "exec_command"),
            (ASSISTANT, TOOL_USE, 'view_image: {"path":"shot.png"}', "view_image"),
            (ASSISTANT, TEXT, "Fixed: add() used subtraction.", None),
        ],
    ),
    FixtureCase(
        test_id="gemini-chat-0.61",
        provider="gemini",
        fixture="gemini/gemini-chat.jsonl",
        expected=[
            (USER, TEXT, "hello gemini tui", None),
            (ASSISTANT, TEXT, "FAKE-GEMINI-REPLY: hello gemini tui", None),
            (USER, LOCAL, "Request cancelled.", None),
            (USER, TEXT, "SHELL: touch g.txt", None),
            (ASSISTANT, TOOL_USE, "Shell: touch g.txt", "run_shell_command"),
            (
                ASSISTANT,
                TOOL_RESULT,
                "Output: (empty)\nProcess Group PGID: 15364",
                "run_shell_command",
            ),
            (
                ASSISTANT,
                TEXT,
                'Tool finished: {"output": "<untrusted_context>\\nOutput: (empty)\\n'
                'Process Group PGID: 15364\\n</untrusted_context>"}',
                None,
            ),
        ],
    ),
    FixtureCase(
        test_id="gemini-rewritten-record-failed-tool-notices",
        provider="gemini",
        fixture="gemini/synthetic-tools.jsonl",
        expected=[
            (USER, TEXT, "list the files, then run make", None),
            (ASSISTANT, THINKING, "Listing the directory\nI will list the folder first.", None),
            (ASSISTANT, TOOL_USE, "ReadFolder: .", "list_directory"),
            (ASSISTANT, TOOL_RESULT, "Makefile\nsrc/", "list_directory"),
            (ASSISTANT, TEXT, "Now running make.", None),
            (ASSISTANT, TOOL_USE, "Shell: make", "run_shell_command"),
            (
                ASSISTANT,
                TOOL_RESULT,
                ERROR_PREFIX + "Command exited with code 2: make: *** No rule to make target",
                "run_shell_command",
            ),
            (ASSISTANT, MessageKind.API_ERROR, "quota exceeded", None),
            (USER, LOCAL, "Request cancelled.", None),
            (ASSISTANT, TEXT, "make has no default target.", None),
        ],
    ),
    FixtureCase(
        # Refusing a tool call makes Gemini 0.61 append its whole history again under new ids.
        test_id="gemini-refused-call-restates-history",
        provider="gemini",
        fixture="gemini/refused-call-restates-history.jsonl",
        expected=[
            (USER, TEXT, "Say hello", None),
            (ASSISTANT, TEXT, "FAKE-REPLY: you said 'Say hello'", None),
            (USER, TEXT, "BASH: touch chat-approved.txt", None),
            (ASSISTANT, TEXT, "I'll run that command.", None),
            (ASSISTANT, TOOL_USE, "Shell: touch chat-approved.txt", "run_shell_command"),
            (ASSISTANT, TOOL_RESULT, "Output: (empty)\nProcess Group PGID: 27812",
             "run_shell_command"),
            (ASSISTANT, TEXT, "Tool finished (is_error=False): <untrusted_context> Output: "
             "(empty) Process Group PGID: 27812 </untrusted_context>", None),
            (USER, TEXT, "BASH: touch chat-refused.txt", None),
            (ASSISTANT, TEXT, "I'll run that command.", None),
            (ASSISTANT, TOOL_USE, "Shell: touch chat-refused.txt", "run_shell_command"),
            (ASSISTANT, TOOL_RESULT, ERROR_PREFIX + "[Operation Cancelled] Reason: User denied "
             "execution.", "run_shell_command"),
            (USER, LOCAL, "Request cancelled.", None),
        ],
    ),
    *(
        FixtureCase(
            test_id=f"{provider}-api-error-{status}",
            provider=provider,
            fixture=f"{provider}/api-error-{status}.jsonl",
            expected=expected,
        )
        for provider, status, expected in (
            ("claude", 401, [(USER, TEXT, "hello", None),
                             (ASSISTANT, API_ERROR, "Not logged in · Please run /login", None)]),
            # Claude writes these errors before the prompt they refused, with later times.
            ("claude", 429, [(USER, TEXT, "hello", None),
                             (ASSISTANT, API_ERROR, "API Error: Request rejected (429) · Fake "
                              "rate limit: too many requests", None)]),
            ("claude", 529, [(USER, TEXT, "hello", None),
                             (ASSISTANT, API_ERROR, CLAUDE_529, None)]),
            ("codex", 401, [(USER, TEXT, "hello", None),
                            (ASSISTANT, API_ERROR, CODEX_401, None)]),
            ("codex", 429, [(USER, TEXT, "hello", None),
                            (ASSISTANT, API_ERROR, "exceeded retry limit, last status: 429 Too "
                             "Many Requests", None)]),
            ("codex", 503, [(USER, TEXT, "hello", None),
                            (ASSISTANT, API_ERROR, "Selected model is at capacity. Please try a "
                             "different model.", None)]),
            ("gemini", 401, [(USER, TEXT, "hello", None),
                             (ASSISTANT, API_ERROR, "Fake key rejected: invalid x-api-key "
                              "(UNAUTHENTICATED)", None)]),
            # Gemini asks about a spent quota in a dialog, and retries an overload for minutes:
            # neither is in its chat file yet.
            ("gemini", 429, [(USER, TEXT, "hello", None)]),
            ("gemini", 503, [(USER, TEXT, "hello", None)]),
        )
    ),
]


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c.test_id for c in FIXTURE_CASES])
def test_parser_turns_fixture_into_expected_messages(case: FixtureCase) -> None:
    messages = parse_file(parser_for(case.provider), FIXTURES / case.fixture)

    assert rows(messages) == case.expected


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c.test_id for c in FIXTURE_CASES])
def test_parser_ids_are_unique_and_stable_across_parsers(case: FixtureCase) -> None:
    first = parse_file(parser_for(case.provider), FIXTURES / case.fixture)
    second = parse_file(parser_for(case.provider), FIXTURES / case.fixture)

    ids = [m.id for m in first]
    assert len(set(ids)) == len(ids)
    assert ids == [m.id for m in second]


def test_every_fixture_file_has_a_case() -> None:
    covered = {case.fixture for case in FIXTURE_CASES}
    on_disk = {str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("*/*.jsonl")}

    assert on_disk == covered


class IdCase(NamedTuple):
    test_id: str
    provider: str
    fixture: str
    position: int
    expected_id: str
    expected_tool_id: str | None


ID_CASES = [
    IdCase(
        "claude-entry-uuid",
        "claude",
        "claude/claude-transcript-e2e.jsonl",
        0,
        "c7fa2a68-6fa5-4713-93e1-04bcd88d7996",
        None,
    ),
    IdCase(
        "claude-tool-result-pairs-by-tool-use-id",
        "claude",
        "claude/claude-transcript-e2e.jsonl",
        5,
        "b9840a11-4b02-4782-b2c6-76fa9cd4a42d",
        "toolu_361c6d7037994eb2a63c4e7b",
    ),
    IdCase(
        "claude-several-blocks-on-one-line-get-index-suffix",
        "claude",
        "claude/synthetic-thinking.jsonl",
        6,
        "c0000000-0000-4000-8000-000000000009:1",
        None,
    ),
    IdCase(
        "codex-item-id", "codex", "codex/codex-rollout.jsonl", 3, "fc_8fff2933", "call_e5f688db"
    ),
    IdCase(
        "codex-output-item-id",
        "codex",
        "codex/codex-rollout.jsonl",
        4,
        "fco_01a1fc5a-4b97-70a1-9b05-1b6e40270a47",
        "call_e5f688db",
    ),
    IdCase(
        "gemini-tool-result-keyed-by-call",
        "gemini",
        "gemini/gemini-chat.jsonl",
        5,
        "run_shell_command__run_shell_command_1795235291202_0:result",
        "run_shell_command__run_shell_command_1795235291202_0",
    ),
    IdCase(
        "gemini-thought-keyed-by-record",
        "gemini",
        "gemini/synthetic-tools.jsonl",
        1,
        "9e000000-0000-4000-8000-0000000000a2:thought:0",
        None,
    ),
]


@pytest.mark.parametrize("case", ID_CASES, ids=[c.test_id for c in ID_CASES])
def test_message_ids_follow_the_convention(case: IdCase) -> None:
    message = parse_file(parser_for(case.provider), FIXTURES / case.fixture)[case.position]

    assert (message.id, message.tool_id) == (case.expected_id, case.expected_tool_id)


def test_codex_item_without_id_gets_a_content_hash_id() -> None:
    messages = parse_file(CodexParser(), FIXTURES / "codex/synthetic-tools.jsonl")

    assert messages[0].id.startswith("sha256:")


def test_codex_turn_aborted_is_an_interrupt_once_and_other_tui_events_are_skipped() -> None:
    aborted = json.dumps({"type": "event_msg", "payload": {
        "type": "turn_aborted", "turn_id": "t-1", "reason": "interrupted"}})  # fmt: skip
    echoed = json.dumps({"type": "event_msg", "payload": {"type": "agent_message",
                                                          "message": "hi"}})  # fmt: skip
    parser = CodexParser()

    first, again, other = parser.parse(aborted), parser.parse(aborted), parser.parse(echoed)

    assert [(m.role, m.kind, m.text) for m in first] == [
        (USER, INTERRUPT, "[Turn interrupted by user]")
    ]
    assert (again, other) == ((), ())


class PairCase(NamedTuple):
    test_id: str
    provider: str
    fixture: str
    call_line: int
    result_line: int
    tool_name: str


PAIR_CASES = [
    PairCase("claude", "claude", "claude/claude-transcript-e2e.jsonl", 13, 14, "Bash"),
    PairCase("codex", "codex", "codex/codex-rollout.jsonl", 19, 22, "exec_command"),
    PairCase("codex-custom-tool", "codex", "codex/synthetic-tools.jsonl", 10, 11, "apply_patch"),
]


@pytest.mark.parametrize("case", PAIR_CASES, ids=[c.test_id for c in PAIR_CASES])
def test_tool_result_is_paired_with_a_call_from_an_earlier_parse(case: PairCase) -> None:
    lines = (FIXTURES / case.fixture).read_text(encoding="utf-8").splitlines()
    parser = parser_for(case.provider)

    (call,) = parser.parse(lines[case.call_line])
    (result,) = parser.parse(lines[case.result_line])

    assert call.kind is TOOL_USE
    assert result.kind is TOOL_RESULT
    assert (result.tool_name, result.tool_id) == (case.tool_name, call.tool_id)


@pytest.mark.parametrize("case", PAIR_CASES, ids=[c.test_id for c in PAIR_CASES])
def test_tool_result_without_its_call_keeps_id_but_has_no_name(case: PairCase) -> None:
    lines = (FIXTURES / case.fixture).read_text(encoding="utf-8").splitlines()

    (result,) = parser_for(case.provider).parse(lines[case.result_line])

    assert result.tool_name is None
    assert result.tool_id is not None


class MalformedCase(NamedTuple):
    test_id: str
    provider: str
    line: str


MALFORMED_LINES = [
    ("torn-json", '{"type":"assistant","message":{"content":[{"type":"text","te'),
    ("not-json", "this is not json"),
    ("json-array", '[{"type":"user"}]'),
    ("json-null", "null"),
    ("blank", "   "),
    ("wrong-shapes", '{"type":"user","message":"hi","payload":7,"$set":[1]}'),
    ("content-not-a-list", '{"type":"assistant","uuid":"u","message":{"content":42}}'),
    ("item-not-a-dict", '{"type":"response_item","payload":"message"}'),
    ("messages-not-dicts", '{"$set":{"messages":[1,"two",null]}}'),
]
MALFORMED_CASES = [
    MalformedCase(f"{provider}-{name}", provider, line)
    for provider in ("claude", "codex", "gemini")
    for name, line in MALFORMED_LINES
]


@pytest.mark.parametrize("case", MALFORMED_CASES, ids=[c.test_id for c in MALFORMED_CASES])
def test_malformed_line_is_skipped_without_raising(case: MalformedCase) -> None:
    assert parser_for(case.provider).parse(case.line) == ()


def test_malformed_line_does_not_disturb_the_lines_around_it() -> None:
    lines = (FIXTURES / "claude/claude-transcript-e2e.jsonl").read_text().splitlines()
    parser = ClaudeParser()

    before = parser.parse(lines[13])
    torn = parser.parse(lines[14][:40])
    after = parser.parse(lines[14])

    assert (len(before), torn, after[0].tool_name) == (1, (), "Bash")


class RepeatCase(NamedTuple):
    test_id: str
    provider: str
    fixture: str
    line: int


REPEAT_CASES = [
    RepeatCase("claude", "claude", "claude/claude-transcript-e2e.jsonl", 7),
    RepeatCase("codex", "codex", "codex/codex-rollout.jsonl", 10),
    RepeatCase("gemini", "gemini", "gemini/gemini-chat.jsonl", 4),
]


@pytest.mark.parametrize("case", REPEAT_CASES, ids=[c.test_id for c in REPEAT_CASES])
def test_a_repeated_entry_yields_nothing_the_second_time(case: RepeatCase) -> None:
    line = (FIXTURES / case.fixture).read_text(encoding="utf-8").splitlines()[case.line]
    parser = parser_for(case.provider)

    assert len(parser.parse(line)) == 1
    assert parser.parse(line) == ()


class ProviderCase(NamedTuple):
    test_id: str
    name: str
    parser_type: type[object]


PROVIDER_CASES = [
    ProviderCase("claude", "claude", ClaudeParser),
    ProviderCase("codex-any-case", " Codex ", CodexParser),
    ProviderCase("gemini", "GEMINI", GeminiParser),
]


@pytest.mark.parametrize("case", PROVIDER_CASES, ids=[c.test_id for c in PROVIDER_CASES])
def test_parser_for_returns_a_new_parser_of_the_provider(case: ProviderCase) -> None:
    parser = parser_for(case.name)

    assert isinstance(parser, case.parser_type)
    assert parser is not parser_for(case.name)


@pytest.mark.parametrize("name", ["bash", "claude-code", ""])
def test_parser_for_refuses_other_providers_naming_the_valid_ones(name: str) -> None:
    with pytest.raises(UnknownProviderError, match="claude, codex, gemini, shell") as raised:
        parser_for(name)

    assert isinstance(raised.value, ValueError)
    assert raised.value.provider == name


class SummaryCase(NamedTuple):
    test_id: str
    name: str
    tool_input: object
    expected: str


SUMMARY_CASES = [
    SummaryCase(
        "bash", "Bash", {"command": "touch x.txt", "description": "d"}, "Bash: touch x.txt"
    ),
    SummaryCase("bash-multi-line", "Bash", {"command": "cd a\nmake"}, "Bash: cd a …"),
    SummaryCase("write", "Write", {"file_path": "new.txt", "content": "x"}, "Write: new.txt"),
    SummaryCase("read", "Read", {"file_path": "/a/b.py", "limit": 5}, "Read: /a/b.py"),
    SummaryCase("grep", "Grep", {"pattern": "TODO", "path": "src"}, "Grep: TODO"),
    SummaryCase("unknown-tool", "Foo", {"b": 1, "a": [2]}, 'Foo: {"a":[2],"b":1}'),
    SummaryCase("no-input", "ExitPlanMode", {}, "ExitPlanMode"),
    SummaryCase("empty-field-falls-back", "Bash", {"command": " "}, 'Bash: {"command":" "}'),
    SummaryCase("long-command", "Bash", {"command": "x" * 300}, "Bash: " + "x" * 200 + " …"),
    SummaryCase(
        "long-json",
        "Foo",
        {"text": "y" * 300},
        'Foo: {"text":"' + "y" * 191 + "…",
    ),
]


@pytest.mark.parametrize("case", SUMMARY_CASES, ids=[c.test_id for c in SUMMARY_CASES])
def test_claude_tool_use_summary_is_one_line(case: SummaryCase) -> None:
    assert summarize_tool_use(case.name, case.tool_input) == case.expected


class MetaCase(NamedTuple):
    test_id: str
    content: bytes | None
    expected: tuple[str, str] | None


META_CASES = [
    MetaCase(
        "real-rollout",
        (FIXTURES / "codex/codex-rollout.jsonl").read_bytes(),
        ("01a1fc59-d7cf-79e3-b8c1-25ce9a1f6388", "/srv/codexwork"),
    ),
    MetaCase("missing-file", None, None),
    MetaCase(
        "claude-transcript", (FIXTURES / "claude/synthetic-thinking.jsonl").read_bytes(), None
    ),
    MetaCase(
        "first-line-still-being-written",
        (FIXTURES / "codex/codex-rollout.jsonl").read_bytes()[:500],
        None,
    ),
    MetaCase("empty-file", b"", None),
    MetaCase("meta-without-cwd", b'{"type":"session_meta","payload":{"id":"x"}}\n', None),
]


@pytest.mark.parametrize("case", META_CASES, ids=[c.test_id for c in META_CASES])
def test_read_session_meta_gives_id_and_cwd_of_a_rollout(case: MetaCase, tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    if case.content is not None:
        path.write_bytes(case.content)

    assert read_session_meta(path) == case.expected


def test_claude_lines_in_time_order_keep_their_order_and_odd_lines_their_place() -> None:
    lines = (
        '{"type": "mode", "mode": "normal"}',
        '{"type": "user", "timestamp": "2026-12-02T10:00:01.000Z", "uuid": "a"}',
        "not json",
        '{"type": "assistant", "timestamp": "2026-12-02T10:00:02.000Z", "uuid": "b"}',
    )

    assert ClaudeParser().order(lines) == lines
    swapped = (lines[0], lines[3], lines[1], lines[2])
    assert ClaudeParser().order(swapped) == lines
