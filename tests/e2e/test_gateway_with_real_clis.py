"""The gateway drives the real, pinned CLIs against fake model APIs on 127.0.0.1.

What a chat would see: the agent's reply as an AgentMessageEvent, a permission prompt as a
StatusEvent with the CLI's own options, the command that really ran after answering 1, nothing
run after answering No, output after /clear under the new session, a turn finished while the
gateway was dead delivered once, and /exit reported as the window dying.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from fakes.agent_homes import INHERITED_ENV_TO_DROP, agent_cli, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs
from support import (
    World,
    delivered_by_driver,
    kill_gateway_driver,
    start_gateway_driver,
    wait_until,
)
from unified_icc import (
    AgentMessageEvent,
    AgentStatus,
    Config,
    MessageKind,
    PromptKind,
    ProviderSettings,
    ProvidersSettings,
    StatusEvent,
    UnifiedICC,
    WindowChange,
    WindowEvent,
    WindowInfo,
)

pytestmark = pytest.mark.e2e


@dataclasses.dataclass
class Agents:
    """A started gateway whose providers are the real CLIs, and what it reported."""

    gateway: UnifiedICC
    apis: FakeModelAPIs
    world: World
    messages: list[AgentMessageEvent] = dataclasses.field(default_factory=list)
    statuses: list[StatusEvent] = dataclasses.field(default_factory=list)
    windows: list[WindowEvent] = dataclasses.field(default_factory=list)
    timeline: list[AgentMessageEvent | StatusEvent] = dataclasses.field(default_factory=list)

    def texts(self, kind: MessageKind = MessageKind.TEXT) -> list[str]:
        return [m.text for e in self.messages for m in e.messages if m.kind is kind]

    async def open(self, provider: str) -> WindowInfo:
        return await self.gateway.create_window(self.world.workspace, provider)

    async def wait_for_text(self, needle: str) -> AgentMessageEvent:
        def find() -> AgentMessageEvent | None:
            return next((e for e in self.messages for m in e.messages if needle in m.text), None)

        found: AgentMessageEvent = await wait_until(find, what=f"a message with {needle!r}")
        return found

    async def wait_for_prompt(self, window: WindowInfo) -> StatusEvent:
        def find() -> StatusEvent | None:
            return next((s for s in self.statuses if s.window_id == window.window_id
                         and s.status is AgentStatus.PROMPT), None)  # fmt: skip

        found: StatusEvent = await wait_until(find, what="a permission prompt")
        return found


def _real_providers(config: Config, env: dict[str, dict[str, str]]) -> Config:
    def real(name: str) -> ProviderSettings:
        return ProviderSettings(command=str(agent_cli(name)), env=env[name])

    providers = ProvidersSettings(claude=real("claude"), codex=real("codex"), gemini=real("gemini"))
    return dataclasses.replace(config, providers=providers)


@pytest.fixture
async def agents(world: World, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Agents]:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[world.workspace], apis=apis)
        gateway = UnifiedICC(_real_providers(world.config(), env))
        state = Agents(gateway=gateway, apis=apis, world=world)
        gateway.on_message(_append(state.messages, state.timeline))
        gateway.on_status(_append(state.statuses, state.timeline))
        gateway.on_window_change(_append(state.windows))
        try:
            async with gateway:
                yield state
        finally:
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)


def _append(*lists: list[Any]) -> Any:
    async def append(event: Any) -> None:
        for into in lists:
            into.append(event)

    return append


@pytest.mark.parametrize("provider", ["claude", "codex", "gemini"])
async def test_prompt_reply_arrives_as_an_agent_message(agents: Agents, provider: str) -> None:
    window = await agents.open(provider)

    await agents.gateway.send_to_window(window.window_id, "Say hello")

    event = await agents.wait_for_text("FAKE-REPLY: you said 'Say hello'")
    assert event.window_id == window.window_id
    assert event.session_id is not None
    assert event.session_id == agents.gateway.monitor.detect_session_id(window.window_id)


APPROVALS = {
    "claude": ("Bash command", ["Yes", "No"]),
    "codex": ("Would you like to run the following command?", ["Yes, proceed (y)"]),
    "gemini": ("Shell  touch approved.txt", ["Allow once", "Allow for this session"]),
}


@pytest.mark.parametrize("provider", ["claude", "codex", "gemini"])
async def test_approving_a_tool_call_runs_it_and_the_follow_up_arrives(
    agents: Agents, provider: str
) -> None:
    window = await agents.open(provider)
    await agents.gateway.send_to_window(window.window_id, "BASH: touch approved.txt")

    prompt = (await agents.wait_for_prompt(window)).prompt
    assert prompt is not None
    title, labels = APPROVALS[provider]
    assert (prompt.kind, prompt.title) == (PromptKind.PERMISSION, title)
    shown = [option.label for option in prompt.options]
    assert all(label in shown for label in labels), shown
    assert prompt.options[0].selected

    await agents.gateway.answer_prompt(window.window_id, 1)

    target = agents.world.workspace / "approved.txt"
    await wait_until(target.exists, what="the approved command to create the file")
    await agents.wait_for_text("Tool finished (is_error=False)")
    assert any("touch approved.txt" in t for t in agents.texts(MessageKind.TOOL_USE))


@pytest.mark.parametrize("provider", ["claude", "codex", "gemini"])
async def test_a_turn_with_an_approved_call_ends_once_after_its_last_reply(
    agents: Agents, provider: str
) -> None:
    window = await agents.open(provider)
    await agents.gateway.send_to_window(window.window_id, "BASH: touch ended.txt")
    await agents.wait_for_prompt(window)
    start = len(agents.timeline)
    await agents.gateway.answer_prompt(window.window_id, 1)

    await agents.wait_for_text("Tool finished (is_error=False)")
    ended = await wait_until(lambda: [i for i, e in enumerate(agents.timeline[start:], start)
                                      if isinstance(e, StatusEvent) and e.turn_ended],
                             what="the end of the turn")  # fmt: skip
    replies = [i for i, e in enumerate(agents.timeline) if isinstance(e, AgentMessageEvent)
               and any("Tool finished" in m.text for m in e.messages)]  # fmt: skip
    assert ended[0] > replies[-1], "the turn was reported over before its last reply"


@pytest.mark.parametrize("provider", ["claude", "codex", "gemini"])
async def test_answering_no_runs_nothing_and_ends_the_turn(agents: Agents, provider: str) -> None:
    window = await agents.open(provider)
    await agents.gateway.send_to_window(window.window_id, "BASH: touch refused.txt")
    prompt = (await agents.wait_for_prompt(window)).prompt
    assert prompt is not None
    no = prompt.options[-1]  # each CLI offers its refusal last
    assert no.label.startswith("No"), no.label
    start = len(agents.timeline)

    await agents.gateway.answer_prompt(window.window_id, no.number)

    # Claude and Codex fire no Stop hook for a refused call: their transcripts say it instead.
    await wait_until(lambda: any(
        (isinstance(e, StatusEvent) and e.turn_ended) or (isinstance(e, AgentMessageEvent)
         and any(m.kind is MessageKind.INTERRUPT for m in e.messages))
        for e in agents.timeline[start:]), what="the end of the refused turn")  # fmt: skip
    assert not (agents.world.workspace / "refused.txt").exists()


async def test_clear_moves_to_a_new_session_and_later_output_still_arrives(
    agents: Agents,
) -> None:
    window = await agents.open("claude")
    await agents.gateway.send_to_window(window.window_id, "before clear")
    await agents.wait_for_text("you said 'before clear'")
    first = agents.gateway.monitor.detect_session_id(window.window_id)

    await agents.gateway.send_to_window(window.window_id, "/clear")
    second = await wait_until(
        lambda: (sid := agents.gateway.monitor.detect_session_id(window.window_id)) != first
        and sid,
        what="a new session id after /clear",
    )
    await agents.gateway.send_to_window(window.window_id, "after clear")

    event = await agents.wait_for_text("you said 'after clear'")
    assert event.session_id == second
    assert agents.texts().count("FAKE-REPLY: you said 'before clear'") == 1


async def test_exit_reports_the_window_died(agents: Agents) -> None:
    window = await agents.open("claude")

    await agents.gateway.send_to_window(window.window_id, "/exit")

    died = await wait_until(
        lambda: next((e for e in agents.windows if e.kind is WindowChange.DIED), None),
        what="the window to die",
    )
    assert (died.window_id, died.exit_status) == (window.window_id, 0)


@pytest.mark.parametrize("provider", ["claude", "codex", "gemini"])
async def test_an_agent_put_to_sleep_when_idle_resumes_its_conversation(
    agents: Agents, provider: str
) -> None:
    window = await agents.gateway.create_window(agents.world.workspace, provider, idle_timeout=2)
    await agents.gateway.send_to_window(window.window_id, "Remember the word PELICAN")
    await agents.wait_for_text("you said 'Remember the word PELICAN'")
    await wait_until(lambda: _window_event(agents, WindowChange.ASLEEP), what="the sleep")
    sent_before = len(agents.apis.requests_for(provider))

    await agents.gateway.send_to_window(window.window_id, "Which word was it")

    await agents.wait_for_text("you said 'Which word was it'")
    assert _window_event(agents, WindowChange.RESUMED)
    assert _asked_with_history(agents, provider, sent_before, "PELICAN", "Which word was it")
    assert len([t for t in agents.texts() if "you said 'Remember the word PELICAN'" in t]) == 1


async def test_claude_exited_with_slash_exit_resumes_its_conversation(agents: Agents) -> None:
    window = await agents.open("claude")
    await agents.gateway.send_to_window(window.window_id, "Remember the word HERON")
    await agents.wait_for_text("you said 'Remember the word HERON'")
    await agents.gateway.send_to_window(window.window_id, "/exit")
    await wait_until(lambda: _window_event(agents, WindowChange.DIED), what="the exit")
    sent_before = len(agents.apis.requests_for("claude"))

    await agents.gateway.resume_window(window.window_id)
    await agents.gateway.send_to_window(window.window_id, "Which bird was it")

    await agents.wait_for_text("you said 'Which bird was it'")
    assert _asked_with_history(agents, "claude", sent_before, "HERON", "Which bird was it")
    assert len([t for t in agents.texts() if "you said 'Remember the word HERON'" in t]) == 1


async def test_a_claude_turn_past_its_limit_is_interrupted(agents: Agents) -> None:
    window = await agents.gateway.create_window(agents.world.workspace, "claude", turn_timeout=2)

    await agents.gateway.send_to_window(window.window_id, "Take your time DELAY=20")

    stopped = await wait_until(lambda: _window_event(agents, WindowChange.TURN_TIMED_OUT),
                               what="the turn to be stopped")  # fmt: skip
    assert stopped.reason == "the turn ran longer than 2 s"
    await wait_until(lambda: agents.gateway.status_of(window.window_id)[0] is AgentStatus.IDLE,
                     what="Claude idle again")  # fmt: skip
    await agents.gateway.send_to_window(window.window_id, "Quick one")
    await agents.wait_for_text("you said 'Quick one'")
    assert not any("you said 'Take your time" in t for t in agents.texts())


@pytest.mark.parametrize(("provider", "version"), [("claude", "2.1.197 (Claude Code)"),
                                                   ("codex", "codex-cli 0.169.0"),
                                                   ("gemini", "0.61.0")])  # fmt: skip
async def test_a_smoke_test_sees_the_cli_s_input_box_and_leaves_nothing_behind(
    agents: Agents, provider: str, version: str
) -> None:
    result = await agents.gateway.smoke_test(provider)

    assert (result.ok, result.shows, result.version) == (True, "input box", version), result
    assert 0 < result.seconds < 30
    assert agents.gateway.windows() == ()
    names = agents.world.tmux("list-windows", "-a", "-F", "#{window_name}").stdout.split()
    assert not any(name.startswith("check:") for name in names)


def _window_event(agents: Agents, kind: WindowChange) -> WindowEvent | None:
    return next((e for e in agents.windows if e.kind is kind), None)


def _asked_with_history(
    agents: Agents, provider: Any, since: int, earlier: str, question: str
) -> bool:
    """Whether a request the CLI sent after ``since`` carries the question and the earlier
    conversation (the resumed session's history)."""
    bodies = [json.dumps(r.body) for r in agents.apis.requests_for(provider)[since:]]
    return any(earlier in body and question in body for body in bodies)


async def test_gateway_killed_mid_turn_delivers_the_rest_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[world.workspace], apis=apis)
        _write_config(world, env)
        try:
            await _kill_mid_turn_then_restart(world)
        finally:
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)


async def _kill_mid_turn_then_restart(world: World) -> None:
    async with UnifiedICC() as first:
        window = await first.create_window(world.workspace, "claude")
        await wait_until(lambda: first.window_store.by_window(window.window_id).transcript_path,
                         what="the SessionStart hook")  # fmt: skip
    driver = start_gateway_driver()
    try:
        world.tmux("send-keys", "-t", window.window_id, "-l", "Slow one DELAY=4")
        world.tmux("send-keys", "-t", window.window_id, "Enter")
        await wait_until(lambda: "Slow one DELAY=4" in delivered_by_driver(world.config_dir),
                         what="the prompt")  # fmt: skip
    finally:
        kill_gateway_driver(driver)
    transcript = await wait_until(lambda: _transcript_with(world, "FAKE-REPLY"),
                                  what="the reply written while the gateway was dead")  # fmt: skip
    assert transcript

    later: list[AgentMessageEvent] = []
    restarted = UnifiedICC()
    restarted.on_message(_append(later))
    async with restarted:
        texts = [m.text for e in later for m in e.messages]
    assert texts == ["FAKE-REPLY: you said 'Slow one DELAY=4'"]
    assert delivered_by_driver(world.config_dir).count("Slow one DELAY=4") == 1


def _write_config(world: World, env: dict[str, dict[str, str]]) -> None:
    providers = {name: {"command": str(agent_cli(name)), "env": env[name]}
                 for name in ("claude", "codex", "gemini")}  # fmt: skip
    config = {
        "gateway": {"tmux_session": "uicc-test", "tmux_socket": world.socket,
                    "workspace_roots": [str(world.workspace)], "poll_interval": 0.2},
        "providers": providers,
    }  # fmt: skip
    world.config_dir.mkdir(parents=True, exist_ok=True)
    (world.config_dir / "config.yaml").write_text(json.dumps(config))


def _transcript_with(world: World, needle: str) -> bool:
    projects = world.home / ".claude" / "projects"
    return any(needle in path.read_text() for path in projects.rglob("*.jsonl"))
