"""Screen parser: captured panes and synthetic panels → status and the prompt card's content."""

# ruff: noqa: RUF001 -- screens are verbatim CLI output: their ">"-like glyphs are the point.

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from unified_icc.events import AgentStatus, PromptInfo, PromptKind, PromptOption
from unified_icc.terminal import ScreenStatus, parse_screen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "screens"
CLAUDE_DIR = "claude/2.1.197"
CODEX_DIR = "codex/0.169.0"
GEMINI_DIR = "gemini/0.61.0"
PROVIDER_OF_DIR = {CLAUDE_DIR: "claude", CODEX_DIR: "codex", GEMINI_DIR: "gemini"}

IDLE, WORKING = AgentStatus.IDLE, AgentStatus.WORKING
RULE = "─" * 120
NBSP = "\u00a0"


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def provider_of(name: str) -> str:
    return PROVIDER_OF_DIR[name.rsplit("/", 1)[0]]


def options(*labels: str, selected: int | None) -> tuple[PromptOption, ...]:
    return tuple(
        PromptOption(number=n, label=label, selected=n == selected)
        for n, label in enumerate(labels, start=1)
    )


def screen(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --- every captured screen: its status --------------------------------------------------


class StatusCase(NamedTuple):
    test_id: str
    fixture: str
    status: AgentStatus


STATUS_CASES = [
    StatusCase("claude-idle", f"{CLAUDE_DIR}/03-idle.txt", IDLE),
    # Typed text and no "? for shortcuts" in the footer: still the input box, still idle.
    StatusCase("claude-typed-prompt", f"{CLAUDE_DIR}/04-typed-prompt.txt", IDLE),
    StatusCase("claude-spinner", f"{CLAUDE_DIR}/05-spinner.txt", WORKING),
    StatusCase("claude-spinner-other-glyph", f"{CLAUDE_DIR}/05b-spinner.txt", WORKING),
    # "✻ Cogitated for 4s" above the box is a finished turn, not a spinner.
    StatusCase("claude-after-text-reply", f"{CLAUDE_DIR}/06-after-text-reply.txt", IDLE),
    StatusCase("claude-after-approval", f"{CLAUDE_DIR}/08-after-approval.txt", IDLE),
    StatusCase("claude-after-approve-0.3s", f"{CLAUDE_DIR}/08a-after-approve-0.3s.txt", WORKING),
    StatusCase("claude-after-digit1", f"{CLAUDE_DIR}/09b-after-digit1.txt", IDLE),
    StatusCase("claude-after-digit3-no", f"{CLAUDE_DIR}/10b-after-digit3-no.txt", IDLE),
    StatusCase("claude-after-digit2-always", f"{CLAUDE_DIR}/11-after-digit2-always.txt", IDLE),
    # The slash-command menu replaces the footer under the input box.
    StatusCase("claude-slash-exit-typed", f"{CLAUDE_DIR}/12-slash-exit-typed.txt", IDLE),
    StatusCase("claude-yolo-idle", f"{CLAUDE_DIR}/14-yolo-idle.txt", IDLE),
    StatusCase("claude-yolo-after-bash", f"{CLAUDE_DIR}/15-yolo-after-bash.txt", IDLE),
    StatusCase("claude-after-esc-on-prompt", f"{CLAUDE_DIR}/17-after-esc-on-prompt.txt", IDLE),
    StatusCase("claude-spinner-7s", f"{CLAUDE_DIR}/18-spinner-7s.txt", WORKING),
    StatusCase("claude-spinner-streaming", f"{CLAUDE_DIR}/19-spinner-streaming.txt", WORKING),
    StatusCase("claude-after-esc-interrupt", f"{CLAUDE_DIR}/20-after-esc-interrupt.txt", IDLE),
    StatusCase("claude-multiline-typed", f"{CLAUDE_DIR}/21-multiline-send-keys-l.txt", IDLE),
    StatusCase("claude-bracketed-paste", f"{CLAUDE_DIR}/22-bracketed-paste.txt", IDLE),
    StatusCase("claude-long-prompt", f"{CLAUDE_DIR}/23-long-prompt-immediate-enter.txt", IDLE),
    StatusCase("claude-continue-startup", f"{CLAUDE_DIR}/24-continue-startup.txt", IDLE),
    StatusCase("claude-after-clear", f"{CLAUDE_DIR}/25-after-clear.txt", IDLE),
    StatusCase("claude-auth-token-no-dialogs", f"{CLAUDE_DIR}/26-auth-token-no-dialogs.txt", IDLE),
    StatusCase("codex-startup", f"{CODEX_DIR}/c01-codex-startup.txt", IDLE),
    # Text left in the composer (its Enter was swallowed): no hint line, still idle.
    StatusCase("codex-text-in-composer", f"{CODEX_DIR}/c02-codex-text-reply.txt", IDLE),
    StatusCase("codex-after-approval", f"{CODEX_DIR}/c04-codex-after-approval.txt", IDLE),
    StatusCase("codex-spinner", f"{CODEX_DIR}/c05-codex-spinner.txt", WORKING),
    StatusCase("gemini-startup", f"{GEMINI_DIR}/g01-gemini-startup.txt", IDLE),
    StatusCase("gemini-text-reply", f"{GEMINI_DIR}/g02-gemini-text-reply.txt", IDLE),
    StatusCase("gemini-after-approval", f"{GEMINI_DIR}/g04-gemini-after-approval.txt", IDLE),
    # The model API refused (scripts/capture_screens.py errors): each CLI is idle again,
    # except Gemini, which retries an overload for minutes.
    *(StatusCase(f"{d.split('/')[0]}-refused-{name}", f"{d}/{name}.txt", IDLE)
      for d, name in ((CLAUDE_DIR, "e-401"), (CLAUDE_DIR, "e-429"), (CLAUDE_DIR, "e-529"),
                      (CODEX_DIR, "e-401"), (CODEX_DIR, "e-429"), (CODEX_DIR, "e-503"),
                      (GEMINI_DIR, "e-401"))),
    StatusCase("gemini-retrying-an-overload", f"{GEMINI_DIR}/e-503.txt", WORKING),
    # Each mode the CLI launches in, and Claude after Shift-Tabs (capture_screens.py modes).
    *(StatusCase(f"{d.split('/')[0]}-{name}", f"{d}/{name}.txt", IDLE)
      for d, name in ((CLAUDE_DIR, "m-accept-edits"), (CLAUDE_DIR, "m-plan"),
                      (CLAUDE_DIR, "m-yolo"), (CLAUDE_DIR, "m-shift-tab-1"),
                      (CLAUDE_DIR, "m-shift-tab-2"), (CLAUDE_DIR, "m-shift-tab-3"),
                      (GEMINI_DIR, "m-accept-edits"), (GEMINI_DIR, "m-plan"),
                      (GEMINI_DIR, "m-yolo"), (CODEX_DIR, "m-yolo"))),
]  # fmt: skip


@pytest.mark.parametrize("case", STATUS_CASES, ids=[c.test_id for c in STATUS_CASES])
def test_parse_screen_reads_the_status_of_a_captured_screen(case: StatusCase) -> None:
    parsed = parse_screen(provider_of(case.fixture), read_fixture(case.fixture))

    assert (parsed.status, parsed.prompt) == (case.status, None)


class InputCase(NamedTuple):
    test_id: str
    fixture: str
    input_text: str


INPUT_CASES = [
    InputCase("claude-empty", f"{CLAUDE_DIR}/03-idle.txt", ""),
    InputCase("claude-typed", f"{CLAUDE_DIR}/04-typed-prompt.txt", "Say hello please DELAY=4"),
    InputCase("claude-busy-with-queued-text", f"{CLAUDE_DIR}/05-spinner.txt", ""),
    # A grey suggestion reads like typed text: callers compare with what they typed.
    InputCase("gemini-placeholder", f"{GEMINI_DIR}/g02-gemini-text-reply.txt",
              "Type your message or @path/to/file"),
]


@pytest.mark.parametrize("case", INPUT_CASES, ids=[c.test_id for c in INPUT_CASES])
def test_parse_screen_reads_what_the_input_box_holds(case: InputCase) -> None:
    parsed = parse_screen(provider_of(case.fixture), read_fixture(case.fixture))

    assert parsed.input_text == case.input_text


# --- every captured panel: the card the user sees ---------------------------------------


class PanelCase(NamedTuple):
    test_id: str
    fixture: str
    kind: PromptKind
    title: str
    body: str
    options: tuple[PromptOption, ...]
    raw_lines: tuple[int, int]  # first and last line of the panel in the file, 1-based


BASH_TOUCH_OPTIONS = ("Yes", "Yes, and always allow access to ccwork/ from this project", "No")
TRUST_BODY = (
    "/srv/ccwork\n\nQuick safety check: Is this a project you created or one you trust? (Like"
    " your own code, a well-known open source project, or work from your team). If not, take"
    " a moment to review what's in this\nfolder first.\n\nClaude Code'll be able to read, edit,"
    " and execute files here.\n\nSecurity guide"
)
YOLO_BODY = (
    "In Bypass Permissions mode, Claude Code will not ask for your approval before running"
    " potentially dangerous commands.\nThis mode should only be used in a sandboxed"
    " container/VM that has restricted internet access and can easily be restored if"
    " damaged.\n\nBy proceeding, you accept all responsibility for actions taken while running"
    " in Bypass Permissions mode.\n\nhttps://code.claude.com/docs/en/security"
)

PANEL_CASES = [
    PanelCase(
        "claude-trust-dialog",
        f"{CLAUDE_DIR}/01-trust-dialog.txt",
        PromptKind.TRUST,
        "Accessing workspace:",
        TRUST_BODY,
        options("Yes, I trust this folder", "No, exit", selected=1),
        (3, 17),
    ),
    PanelCase(
        # Unrecognised wording: other, even though it asks a yes/no question; default is No.
        "claude-apikey-dialog-is-other",
        f"{CLAUDE_DIR}/02-apikey-dialog.txt",
        PromptKind.OTHER,
        "Detected a custom API key in your environment",
        "ANTHROPIC_API_KEY: sk-ant-...0123456789abcdefghij\n\nDo you want to use this API key?",
        options("Yes", "No (recommended)", selected=2),
        (3, 12),
    ),
    PanelCase(
        "claude-bash-permission",
        f"{CLAUDE_DIR}/07-permission-prompt.txt",
        PromptKind.PERMISSION,
        "Bash command",
        "  touch x.txt\n  Run requested command\n\nDo you want to proceed?",
        options(*BASH_TOUCH_OPTIONS, selected=1),
        (28, 38),
    ),
    PanelCase(
        "claude-bash-permission-cursor-moved-down",
        f"{CLAUDE_DIR}/07b-permission-prompt-down.txt",
        PromptKind.PERMISSION,
        "Bash command",
        "  touch x.txt\n  Run requested command\n\nDo you want to proceed?",
        options(*BASH_TOUCH_OPTIONS, selected=2),
        (28, 38),
    ),
    PanelCase(
        "claude-bash-permission-second",
        f"{CLAUDE_DIR}/09-permission-prompt-2.txt",
        PromptKind.PERMISSION,
        "Bash command",
        "  echo hello-from-bash > y.txt\n  Run requested command\n\nDo you want to proceed?",
        options(*BASH_TOUCH_OPTIONS, selected=1),
        (39, 49),
    ),
    PanelCase(
        "claude-bash-permission-command-scoped",
        f"{CLAUDE_DIR}/10-permission-prompt-python.txt",
        PromptKind.PERMISSION,
        "Bash command",
        '  python3 -c "print(42)"\n  Run requested command\n\nThis command requires approval'
        "\n\nDo you want to proceed?",
        options("Yes", "Yes, and don\u2019t ask again for: python3 *", "No", selected=1),
        (37, 49),
    ),
    PanelCase(
        "claude-yolo-warning-is-other",
        f"{CLAUDE_DIR}/13-yolo-confirm-dialog.txt",
        PromptKind.OTHER,
        "WARNING: Claude Code running in Bypass Permissions mode",
        YOLO_BODY,
        options("No, exit", "Yes, I accept", selected=1),
        (3, 15),
    ),
    PanelCase(
        "claude-write-permission",
        f"{CLAUDE_DIR}/16-write-permission-prompt.txt",
        PromptKind.PERMISSION,
        "Create file",
        "new.txt\n 1 hello from fake\nDo you want to create new.txt?",
        options("Yes", "Yes, allow all edits during this session (shift+tab)", "No", selected=1),
        (19, 29),
    ),
    PanelCase(
        "codex-run-command-approval",
        f"{CODEX_DIR}/c03-codex-approval.txt",
        PromptKind.PERMISSION,
        "Would you like to run the following command?",
        "Environment: local\n\nReason: Fake server wants to run this outside the sandbox"
        "\n\n$ touch c.txt",
        options(
            "Yes, proceed (y)",
            "Yes, and don't ask again for commands that start with `touch c.txt` (p)",
            "No, and tell Codex what to do differently (esc)",
            selected=1,
        ),
        (37, 50),
    ),
    PanelCase(
        "gemini-shell-approval",
        f"{GEMINI_DIR}/g03-gemini-approval.txt",
        PromptKind.PERMISSION,
        "Shell  touch g.txt",
        "  touch g.txt\nAllow execution of [Shell]?",
        options("Allow once", "Allow for this session", "No, suggest changes (esc)", selected=1),
        (26, 36),
    ),
    PanelCase(
        "gemini-trust-dialog",
        f"{GEMINI_DIR}/g05-gemini-trust-dialog.txt",
        PromptKind.TRUST,
        "Do you trust the files in this folder?",
        "Trusting a folder allows Gemini CLI to load its local configurations, including custom"
        " commands, hooks, MCP servers, agent skills, and settings. These configurations could"
        " execute code on your\nbehalf or change the behavior of the CLI.",
        options(
            "Trust folder (geminiwork2)", "Trust parent folder (tmp)", "Don't trust", selected=1
        ),
        (19, 31),
    ),
    PanelCase(
        "gemini-daily-quota-spent",
        f"{GEMINI_DIR}/e-429.txt",
        PromptKind.LIMIT,
        "Usage limit reached for gemini-3.8-flash.",
        "/stats model for usage details\n/model to switch models.",
        options("Keep trying", "Stop", selected=1),
        (17, 28),
    ),
]


@pytest.mark.parametrize("case", PANEL_CASES, ids=[c.test_id for c in PANEL_CASES])
def test_parse_screen_reads_the_card_of_a_captured_panel(case: PanelCase) -> None:
    text = read_fixture(case.fixture)
    first, last = case.raw_lines

    parsed = parse_screen(provider_of(case.fixture), text)

    assert parsed.status is AgentStatus.PROMPT
    assert parsed.prompt is not None
    assert parsed.prompt.kind is case.kind
    assert parsed.prompt.title == case.title
    assert parsed.prompt.body == case.body
    assert parsed.prompt.options == case.options
    panel_lines = text.split("\n")[first - 1 : last]
    assert parsed.prompt.raw == "\n".join(line.rstrip() for line in panel_lines)


def test_every_fixture_screen_has_a_case() -> None:
    on_disk = {str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("*/*/*.txt")}

    covered = {c.fixture for c in STATUS_CASES} | {c.fixture for c in PANEL_CASES}

    assert covered == on_disk
    assert len(on_disk) == 60


class ModeCase(NamedTuple):
    fixture: str
    mode: str | None


MODE_CASES = [
    ModeCase(f"{CLAUDE_DIR}/03-idle.txt", "normal"),
    ModeCase(f"{CLAUDE_DIR}/14-yolo-idle.txt", "yolo"),
    ModeCase(f"{CLAUDE_DIR}/m-yolo.txt", "yolo"),
    ModeCase(f"{CLAUDE_DIR}/m-accept-edits.txt", "accept-edits"),
    ModeCase(f"{CLAUDE_DIR}/m-plan.txt", "plan"),
    ModeCase(f"{CLAUDE_DIR}/m-shift-tab-1.txt", "accept-edits"),
    ModeCase(f"{CLAUDE_DIR}/m-shift-tab-2.txt", "plan"),
    ModeCase(f"{CLAUDE_DIR}/m-shift-tab-3.txt", "auto"),
    ModeCase(f"{CLAUDE_DIR}/05-spinner.txt", None),  # working: the footer is busy
    ModeCase(f"{GEMINI_DIR}/g01-gemini-startup.txt", "normal"),
    ModeCase(f"{GEMINI_DIR}/m-accept-edits.txt", "accept-edits"),
    ModeCase(f"{GEMINI_DIR}/m-plan.txt", "plan"),
    ModeCase(f"{GEMINI_DIR}/m-yolo.txt", "yolo"),
    ModeCase(f"{CODEX_DIR}/c01-codex-startup.txt", None),  # Codex shows no mode
    ModeCase(f"{CODEX_DIR}/m-yolo.txt", None),
]


@pytest.mark.parametrize("case", MODE_CASES, ids=[c.fixture for c in MODE_CASES])
def test_parse_screen_reads_the_mode_the_cli_shows(case: ModeCase) -> None:
    parsed = parse_screen(provider_of(case.fixture), read_fixture(case.fixture))

    assert parsed.mode == case.mode


# --- synthetic screens: kinds with no capture, and the traps ----------------------------

CLAUDE_IDLE_BOTTOM = (RULE, f"❯{NBSP}", RULE, "  ? for shortcuts · ← for agents")

PLAN_SCREEN = screen(
    "❯ plan a greeting script",
    "● I'll write a plan first.",
    RULE,
    " Ready to code?",
    "",
    " Here is Claude's plan:",
    "╭──────────────────────────────────────────────╮",
    "│ Plan: greeting script                        │",
    "│                                              │",
    "│ 1. Create hello.sh that prints a greeting    │",
    "│ 2. Make it executable                        │",
    "╰──────────────────────────────────────────────╯",
    "",
    " Would you like to proceed?",
    "",
    " ❯ 1. Yes, and auto-accept edits",
    "   2. Yes, and manually approve edits",
    "   3. No, keep planning",
    "",
    " ctrl-g to edit in Vim",
)
QUESTION_SCREEN = screen(
    "❯ write a script",
    "● I need to know the language first.",
    RULE,
    " ☐ Language",
    "",
    " Which language should the script use?",
    "",
    " ❯ 1. Python",
    "      Portable and readable",
    "   2. Bash",
    "      No dependencies",
    "   3. Type something.",
    "",
    " Enter to select · Tab/Arrow keys to navigate · Esc to cancel",
)
UNKNOWN_CLAUDE_PANEL = screen(
    RULE,
    "  Select model",
    "  Switch between Claude models for this session.",
    "",
    "  ❯ 1. Default (recommended)",
    "    2. Sonnet",
    "    3. Haiku",
    "",
    "  Enter to confirm · Esc to exit",
)
# The plan question with plain yes/no options: not enough to call it a plan.
PLAN_LOOKALIKE = screen(
    RULE,
    " Deploy to staging",
    "",
    " Would you like to proceed?",
    " ❯ 1. Yes",
    "   2. No",
    "",
    " Enter to confirm · Esc to cancel",
)
HINT_WITHOUT_CURSOR = screen(
    RULE,
    " Pick a branch",
    "   1. main",
    "   2. develop",
    " Esc to cancel",
)
OLD_PANEL_ABOVE = (
    "● Bash(touch x.txt)",
    RULE,
    " Bash command",
    "   touch x.txt",
    " Do you want to proceed?",
    " ❯ 1. Yes",
    "   2. No",
    " Esc to cancel · Tab to amend",
    "● Done.",
    "✻ Baked for 0s",
)
OLD_PANEL_ABOVE_IDLE = screen(*OLD_PANEL_ABOVE, *CLAUDE_IDLE_BOTTOM)
OLD_PANEL_ABOVE_WORKING = screen(
    *OLD_PANEL_ABOVE, "✢ Forging…", RULE, f"❯{NBSP}", RULE, "  esc to interrupt · ← for agents"
)
NUMBERED_ANSWER_IDLE = screen(
    "● Here is the order:",
    "  1. Write the tests",
    "  2. Run them",
    "✻ Brewed for 1s",
    *CLAUDE_IDLE_BOTTOM,
)
NUMBERED_ANSWER_NO_INPUT_BOX = screen(
    "● Here is the order:", "  1. Write the tests", "  2. Run them"
)
NUMBERED_LIST_TYPED = screen(
    "✻ Brewed for 1s", RULE, f"❯{NBSP}1. first", "  2. second", RULE, "  ctrl+g to edit in Vim"
)
CODEX_OLD_APPROVAL_ABOVE_COMPOSER = screen(
    "› SHELL: touch c.txt ESCALATE",
    "",
    "• Running touch c.txt",
    "",
    "  Would you like to run the following command?",
    "",
    "  $ touch c.txt",
    "",
    "› 1. Yes, proceed (y)",
    "  2. No, and tell Codex what to do differently (esc)",
    "",
    "  Press enter to confirm or esc to cancel",
    "✔ You approved codex to run touch c.txt this time",
    "",
    "› Ask Codex to do anything",
    "",
    "  ? for shortcuts",
)
CODEX_UNKNOWN_PANEL = screen(
    "› add a line to README.md",
    "",
    "• Proposed Change README.md (+1 -0)",
    "    1 +hello",
    "",
    "  Would you like to make the following edits?",
    "",
    "  Reason: the fake server wants to write outside the sandbox",
    "",
    "› 1. Yes, proceed (y)",
    "  2. No, and tell Codex what to do differently (esc)",
    "",
    "  Press enter to confirm or esc to cancel",
)
GEMINI_WORKING = screen(
    " > hello gemini tui",
    "",
    " ⠇ Thinking... (esc to cancel, 3s)",
    RULE,
    " Shift+Tab to accept edits",
    "",
    " >   Type your message or @path/to/file",
    "",
    " workspace (/directory)             sandbox             /model",
    " /srv/geminiwork                    no sandbox          Auto",
)
GEMINI_UNKNOWN_PANEL = screen(
    " > SHELL: edit notes.md",
    "╭──────────────────────────────────────╮",
    "│ ? Edit  notes.md                     │",
    "│ ╭──────────────────────────────────╮ │",
    "│ │ +hello                           │ │",
    "│ ╰──────────────────────────────────╯ │",
    "│ Apply this change?                   │",
    "│                                      │",
    "│ ● 1. Allow once                      │",
    "│   2. Modify with external editor     │",
    "│   3. No, suggest changes (esc)       │",
    "╰──────────────────────────────────────╯",
)


def lines_of(text: str, first: str, last: str) -> str:
    """The verbatim lines of `text` from the one starting with `first` to the one with `last`."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next(i for i, line in enumerate(lines) if line.startswith(last))
    return "\n".join(lines[start : end + 1])


def prompt(
    kind: PromptKind, title: str, body: str, opts: tuple[PromptOption, ...], raw: str
) -> ScreenStatus:
    info = PromptInfo(kind=kind, title=title, body=body, options=opts, raw=raw)
    return ScreenStatus(status=AgentStatus.PROMPT, prompt=info)


def status(value: AgentStatus) -> ScreenStatus:
    return ScreenStatus(status=value, prompt=None)


class SyntheticCase(NamedTuple):
    test_id: str
    provider: str
    screen: str
    expected: ScreenStatus


SYNTHETIC_CASES = [
    SyntheticCase(
        "claude-plan-approval",
        "claude",
        PLAN_SCREEN,
        prompt(
            PromptKind.PLAN,
            "Ready to code?",
            "Here is Claude's plan:\n Plan: greeting script\n\n 1. Create hello.sh that prints a"
            " greeting\n 2. Make it executable\n\nWould you like to proceed?",
            options(
                "Yes, and auto-accept edits",
                "Yes, and manually approve edits",
                "No, keep planning",
                selected=1,
            ),
            lines_of(PLAN_SCREEN, " Ready to code?", " ctrl-g to edit in Vim"),
        ),
    ),
    SyntheticCase(
        "claude-ask-user-question",
        "claude",
        QUESTION_SCREEN,
        prompt(
            PromptKind.QUESTION,
            "Language",
            "Which language should the script use?",
            options("Python", "Bash", "Type something.", selected=1),
            lines_of(QUESTION_SCREEN, " ☐ Language", " Enter to select"),
        ),
    ),
    SyntheticCase(
        "claude-unknown-panel-is-other",
        "claude",
        UNKNOWN_CLAUDE_PANEL,
        prompt(
            PromptKind.OTHER,
            "Select model",
            "Switch between Claude models for this session.",
            options("Default (recommended)", "Sonnet", "Haiku", selected=1),
            lines_of(UNKNOWN_CLAUDE_PANEL, "  Select model", "  Enter to confirm"),
        ),
    ),
    SyntheticCase(
        "claude-plan-question-with-other-options-is-other",
        "claude",
        PLAN_LOOKALIKE,
        prompt(
            PromptKind.OTHER,
            "Deploy to staging",
            "Would you like to proceed?",
            options("Yes", "No", selected=1),
            lines_of(PLAN_LOOKALIKE, " Deploy to staging", " Enter to confirm"),
        ),
    ),
    SyntheticCase(
        "claude-options-with-hint-but-no-cursor-is-other-none-selected",
        "claude",
        HINT_WITHOUT_CURSOR,
        prompt(
            PromptKind.OTHER,
            "Pick a branch",
            "",
            options("main", "develop", selected=None),
            lines_of(HINT_WITHOUT_CURSOR, " Pick a branch", " Esc to cancel"),
        ),
    ),
    SyntheticCase("claude-old-panel-above-idle-box", "claude", OLD_PANEL_ABOVE_IDLE, status(IDLE)),
    SyntheticCase(
        "claude-old-panel-above-busy-box", "claude", OLD_PANEL_ABOVE_WORKING, status(WORKING)
    ),
    SyntheticCase(
        "claude-numbered-answer-is-not-a-prompt", "claude", NUMBERED_ANSWER_IDLE, status(IDLE)
    ),
    SyntheticCase(
        "claude-numbered-answer-without-input-box-is-not-a-prompt",
        "claude",
        NUMBERED_ANSWER_NO_INPUT_BOX,
        status(WORKING),
    ),
    SyntheticCase(
        "claude-numbered-list-typed-in-input-box", "claude", NUMBERED_LIST_TYPED, status(IDLE)
    ),
    SyntheticCase(
        "codex-old-approval-above-composer",
        "codex",
        CODEX_OLD_APPROVAL_ABOVE_COMPOSER,
        status(IDLE),
    ),
    SyntheticCase(
        "codex-unknown-approval-is-other",
        "codex",
        CODEX_UNKNOWN_PANEL,
        prompt(
            PromptKind.OTHER,
            "Would you like to make the following edits?",
            "Reason: the fake server wants to write outside the sandbox",
            options(
                "Yes, proceed (y)",
                "No, and tell Codex what to do differently (esc)",
                selected=1,
            ),
            lines_of(CODEX_UNKNOWN_PANEL, "  Would you like", "  Press enter"),
        ),
    ),
    SyntheticCase("gemini-spinner", "gemini", GEMINI_WORKING, status(WORKING)),
    SyntheticCase(
        "gemini-unknown-panel-is-other",
        "gemini",
        GEMINI_UNKNOWN_PANEL,
        prompt(
            PromptKind.OTHER,
            "Edit  notes.md",
            "  +hello\nApply this change?",
            options(
                "Allow once",
                "Modify with external editor",
                "No, suggest changes (esc)",
                selected=1,
            ),
            lines_of(GEMINI_UNKNOWN_PANEL, "╭", "╰"),
        ),
    ),
]


@pytest.mark.parametrize("case", SYNTHETIC_CASES, ids=[c.test_id for c in SYNTHETIC_CASES])
def test_parse_screen_reads_a_synthetic_screen(case: SyntheticCase) -> None:
    parsed = parse_screen(case.provider, case.screen)

    assert (parsed.status, parsed.prompt) == (case.expected.status, case.expected.prompt)


@pytest.mark.parametrize("provider", ["claude", "codex", "gemini"])
@pytest.mark.parametrize("text", ["", "\n\n   \n"], ids=["empty", "blank-lines"])
def test_parse_screen_reports_a_blank_screen_as_working(provider: str, text: str) -> None:
    assert parse_screen(provider, text) == status(WORKING)


@pytest.mark.parametrize(
    "text",
    ["", "$ ls\nREADME.md\n$ ", read_fixture(f"{CLAUDE_DIR}/07-permission-prompt.txt")],
    ids=["empty", "prompt", "looks-like-a-claude-panel"],
)
def test_parse_screen_reports_a_shell_as_idle(text: str) -> None:
    assert parse_screen("shell", text) == status(IDLE)


def test_parse_screen_refuses_an_unknown_provider_and_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'aider'.*claude, codex, gemini, shell"):
        parse_screen("aider", "")


def test_parse_screen_reads_a_screen_with_windows_line_endings() -> None:
    text = read_fixture(f"{CLAUDE_DIR}/07-permission-prompt.txt")

    crlf = parse_screen("claude", text.replace("\n", "\r\n"))

    assert crlf == parse_screen("claude", text)


@pytest.mark.parametrize(
    ("value", "info", "message"),
    [
        (AgentStatus.PROMPT, None, "exactly when status is PROMPT"),
        (
            AgentStatus.IDLE,
            PromptInfo(kind=PromptKind.OTHER, title="", body="", options=()),
            "exactly when status is PROMPT",
        ),
        (AgentStatus.DEAD, None, "never says DEAD"),
    ],
    ids=["prompt-without-info", "info-without-prompt", "dead"],
)
def test_screen_status_refuses_inconsistent_values(
    value: AgentStatus, info: PromptInfo | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ScreenStatus(status=value, prompt=info)
