"""The e2e kit works: each pinned CLI, in a private tmux server, talks only to FakeModelAPIs.

Drives tmux directly (not the gateway): launch, idle screen, a scripted reply, an approved shell
command that really runs, and (Claude) hooks given per process with --settings.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import pytest

from fakes.agent_homes import INHERITED_ENV_TO_DROP, agent_cli, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs, Provider, RawReply
from support import World, wait_until

pytestmark = pytest.mark.e2e

TARGET = "kit"
# Codex and Gemini take an Enter that follows typed text too closely as part of a paste burst
# (Gemini inserts a newline, Codex drops it): pause before Enter.
PASTE_BURST_PAUSE = 0.6
# A safety net: press Enter again when the text has not reached the API by then.
RESEND_ENTER_AFTER = 3.0
# Claude's empty input line is U+276F + NBSP; Codex's input line starts with U+203A + space.
CLAUDE_EMPTY_PROMPT = re.compile("^\u276f[ \u00a0]*$", re.MULTILINE)
CODEX_PROMPT = re.compile("^\u203a ", re.MULTILINE)
HOOK_APPENDER = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read().strip() + '\\n')"


class CliCase(NamedTuple):
    test_id: Provider
    args: tuple[str, ...]
    is_idle: Callable[[str], bool]
    approval_text: str
    approve_key: str
    enter_pause: float


CASES = [
    CliCase(
        test_id="claude",
        args=(),
        is_idle=lambda s: "? for shortcuts" in s and bool(CLAUDE_EMPTY_PROMPT.search(s)),
        approval_text="Do you want to proceed?",
        approve_key="1",
        enter_pause=0.0,
    ),
    CliCase(
        test_id="codex",
        args=("--ask-for-approval", "on-request", "--sandbox", "workspace-write"),
        is_idle=lambda s: "? for shortcuts" in s and bool(CODEX_PROMPT.search(s)),
        approval_text="Would you like to run the following command?",
        approve_key="y",
        enter_pause=PASTE_BURST_PAUSE,
    ),
    CliCase(
        test_id="gemini",
        args=(),
        is_idle=lambda s: "Type your message or @path/to/file" in s,
        approval_text="Allow execution of",
        approve_key="1",
        enter_pause=PASTE_BURST_PAUSE,
    ),
]


class AgentPane:
    """One CLI running as the command of a tmux session on the test's private server."""

    def __init__(self, world: World, apis: FakeModelAPIs, provider: Provider) -> None:
        self.world = world
        self.apis = apis
        self.provider = provider

    def launch(self, cli: Path, args: Sequence[str], env: Mapping[str, str]) -> None:
        env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self.world.tmux(
            *("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";"),
            *("set-option", "-s", "focus-events", "on", ";"),
            *("new-session", "-d", "-s", TARGET, "-x", "200", "-y", "50"),
            *("-c", str(self.world.workspace), *env_args, "--", str(cli), *args),
        )

    def screen(self) -> str:
        return self.world.tmux("capture-pane", "-p", "-t", TARGET, check=False).stdout

    def press(self, key: str) -> None:
        self.world.tmux("send-keys", "-t", TARGET, key)

    async def wait_for(self, predicate: Callable[[str], bool], what: str) -> str:
        """Poll the screen until ``predicate`` holds; on timeout the failure shows the screen."""

        def shown() -> str:
            screen = self.screen()
            return screen if predicate(screen) else ""

        try:
            return str(await wait_until(shown, what=what))
        except AssertionError as error:
            raise AssertionError(f"{error}; the screen was:\n{self.screen()}") from None

    async def submit(self, text: str, *, enter_pause: float) -> None:
        """Type ``text``, press Enter, and wait until the fake API has received it."""
        already = len(self.apis.requests)
        self.world.tmux("send-keys", "-t", TARGET, "-l", text)
        if enter_pause:
            await asyncio.sleep(enter_pause)  # a keyboard timing need, not a wait for a state
        self.press("Enter")
        pressed = time.monotonic()
        needle = json.dumps(text)[1:-1]

        def received() -> bool:
            nonlocal pressed
            if any(needle in json.dumps(r.body) for r in self.apis.requests[already:]):
                return True
            if time.monotonic() - pressed > RESEND_ENTER_AFTER:
                self.press("Enter")
                pressed = time.monotonic()
            return False

        try:
            await wait_until(received, what=f"the {self.provider} API to receive {text!r}")
        except AssertionError as error:
            raise AssertionError(f"{error}; the screen was:\n{self.screen()}") from None


@pytest.fixture
async def apis() -> AsyncIterator[FakeModelAPIs]:
    async with FakeModelAPIs() as started:
        yield started


@pytest.fixture
async def homes(
    world: World, apis: FakeModelAPIs, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, dict[str, str]]]:
    """Seeded HOME for all three CLIs; afterwards every process left with that HOME is killed."""
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)  # before the tmux server inherits them
    yield seed_agent_home(world.home, trusted_dirs=[world.workspace], apis=apis)
    world.tmux("kill-server", check=False)
    await kill_home_processes(world.home)


@pytest.mark.parametrize("case", CASES, ids=[case.test_id for case in CASES])
async def test_agent_cli_replies_then_runs_an_approved_command(
    case: CliCase, world: World, apis: FakeModelAPIs, homes: dict[str, dict[str, str]]
) -> None:
    cli = agent_cli(case.test_id)
    pane = AgentPane(world, apis, case.test_id)
    pane.launch(cli, case.args, homes[case.test_id])
    await pane.wait_for(case.is_idle, f"the {case.test_id} idle screen")

    prompt = f"hello from the {case.test_id} kit"
    await pane.submit(prompt, enter_pause=case.enter_pause)
    await pane.wait_for(lambda s: f"FAKE-REPLY: you said '{prompt}'" in s, "the scripted reply")

    created = world.workspace / f"kit-{case.test_id}.txt"
    await pane.submit(f"BASH: touch {created.name}", enter_pause=case.enter_pause)
    await pane.wait_for(lambda s: case.approval_text in s, "the approval prompt")
    assert not created.exists()
    pane.press(case.approve_key)
    await wait_until(created.exists, what=f"{created} to be created")
    await pane.wait_for(lambda s: "Tool finished (is_error=False)" in s, "the tool-result reply")


def _hook_settings(path: Path, log: Path) -> Path:
    command = shlex.join([sys.executable, "-c", HOOK_APPENDER, str(log)])
    hook = [{"hooks": [{"type": "command", "command": command}]}]
    path.write_text(json.dumps({"hooks": {"SessionStart": hook, "UserPromptSubmit": hook}}))
    return path


def _hook_events(log: Path, event: str) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [e for e in map(json.loads, filter(None, lines)) if e["hook_event_name"] == event]


async def test_claude_hooks_from_settings_flag_report_session_and_prompt(
    world: World, apis: FakeModelAPIs, homes: dict[str, dict[str, str]]
) -> None:
    cli = agent_cli("claude")
    session_id = str(uuid.uuid4())
    log = world.root / "hooks.jsonl"
    settings = _hook_settings(world.root / "hook-settings.json", log)
    pane = AgentPane(world, apis, "claude")
    pane.launch(cli, ["--settings", str(settings), "--session-id", session_id], homes["claude"])

    started = await wait_until(lambda: _hook_events(log, "SessionStart"), what="SessionStart")
    await pane.wait_for(CASES[0].is_idle, "the claude idle screen")
    await pane.submit("hooked prompt", enter_pause=0.0)
    submitted = await wait_until(
        lambda: _hook_events(log, "UserPromptSubmit"), what="UserPromptSubmit"
    )

    project = re.sub(r"[^A-Za-z0-9]", "-", str(world.workspace.resolve()))
    transcript = world.home / ".claude" / "projects" / project / f"{session_id}.jsonl"
    assert started[0]["session_id"] == session_id
    assert started[0]["transcript_path"] == str(transcript)
    assert started[0]["source"] == "startup"
    assert submitted[0]["session_id"] == session_id
    assert submitted[0]["prompt"] == "hooked prompt"


async def _call(http: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    async with http.request(method, url, json=body) as response:
        return response.status, await response.json(content_type=None)


async def test_fake_model_apis_answer_side_routes_with_valid_shapes(apis: FakeModelAPIs) -> None:
    score = {"type": "INTEGER", "minimum": 1, "maximum": 100}
    schema = {"type": "OBJECT", "properties": {"reason": {"type": "STRING"}, "score": score}}
    router = {"contents": [], "generationConfig": {"responseJsonSchema": schema}}
    async with aiohttp.ClientSession() as http:
        head = await _call(http, "HEAD", f"{apis.anthropic_url}/")
        count = await _call(http, "POST", f"{apis.anthropic_url}/v1/messages/count_tokens", {})
        missing = await _call(http, "GET", f"{apis.anthropic_url}/v1/models")
        routed = await _call(
            http, "POST", f"{apis.gemini_url}/v1beta/models/m:generateContent", router
        )

    assert head == (200, None)
    assert count[0] == 200
    assert count[1]["input_tokens"] > 0
    assert missing[0] == 404
    assert missing[1]["type"] == "error"
    text = routed[1]["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {"reason": "fake", "score": 1}
    assert apis.requests[-1][:2] == ("gemini", "/v1beta/models/m:generateContent")


async def test_fake_model_apis_forced_reply_answers_the_next_turn_only(apis: FakeModelAPIs) -> None:
    apis.force_reply("claude", RawReply(status=529, body='{"type":"error"}'))
    title_schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    title_format = {"type": "json_schema", "schema": title_schema}
    title = {"messages": [], "output_config": {"format": title_format}}
    turn = {"messages": [{"role": "user", "content": "BASH: ls"}], "tools": [{"name": "Bash"}]}
    url = f"{apis.anthropic_url}/v1/messages?beta=true"
    async with aiohttp.ClientSession() as http:
        titled = await _call(http, "POST", url, title)
        forced = await _call(http, "POST", url, turn)
        scripted = await _call(http, "POST", url, turn)

    assert json.loads(titled[1]["content"][0]["text"]) == {"title": "Fake session"}
    assert forced == (529, {"type": "error"})
    assert scripted[1]["stop_reason"] == "tool_use"
    bash = {"command": "ls", "description": "Run requested command"}
    assert scripted[1]["content"][-1]["input"] == bash
