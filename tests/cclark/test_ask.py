"""#ask in-process: the message handler and the orchestrator on a real gateway (private tmux,
scripted agents), the real OpenAI SDK against a fake chat-completions endpoint on 127.0.0.1.

What the person sees (the tool lines, the confirmation card, the answers), what happened
(windows, their folders, what was typed), what the model was told, and the audit. The bot
process with the emulator and a real bash is test_ask_in_chat.py.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cclark.audit import AuditLog
from cclark.config import OrchestratorSettings
from cclark.handlers import MessageHandler
from cclark.handlers.ask import BUSY, CONFIRM_WITHIN, NOT_CONFIGURED, Orchestrator
from cclark.handlers.ask_tools import ChatTools
from cclark.openai_model import OpenAIChatModel
from chat_view import buttons
from fakes.chat_completions import (
    DEFAULT_KEY,
    FakeChatCompletions,
    call,
    calls,
    fail,
    hang,
    raw_call,
    say,
    tool_results,
)
from handler_kit import Replies, text_event
from support import World, wait_until
from unified_icc import ChannelId, UnifiedICC, WindowId

pytestmark = pytest.mark.integration

CHAT = "oc_ask"
CHANNEL = ChannelId(f"feishu:main:{CHAT}")
TOOLS = {"list_sessions", "start_session", "send_text", "read_output", "switch_session",
         "close_session"}  # fmt: skip


class Asking:
    """A chat with the orchestrator: the handler, what the chat got, the audit."""

    def __init__(self, handler: MessageHandler, replies: Replies, audit: Path) -> None:
        self.handler = handler
        self.replies = replies
        self._audit = audit

    async def say(self, text: str, *, user: str = "ou_a") -> None:
        await self.handler.handle(text_event(text, CHAT, user))

    async def until(self, needle: str, *, within: float = 30) -> str:
        """The first message of the chat that contains needle (waiting for it)."""

        def found() -> str | None:
            return next((s for s in self.replies.sent if needle in s), None)

        text: str = await wait_until(found, within=within, what=f"a message with {needle!r}")
        return text

    def audit(self, kind: str | None = None) -> list[dict[str, Any]]:
        lines = self._audit.read_text().splitlines() if self._audit.exists() else []
        records = [json.loads(line) for line in lines]
        return [r for r in records if kind is None or r["kind"] == kind]

    def confirmation(self) -> tuple[str, dict[str, Any]]:
        """The newest confirmation card: its key and its JSON."""
        key = [k for k in self.replies.cards if k.startswith("confirm:")][-1]
        return key, self.replies.cards[key]


@pytest.fixture
async def llm() -> AsyncIterator[FakeChatCompletions]:
    async with FakeChatCompletions() as fake:
        yield fake


def _settings(llm: FakeChatCompletions, **overrides: Any) -> OrchestratorSettings:
    fields = {"base_url": llm.base_url, "model": "fake-glm", "api_key": llm.key, **overrides}
    return OrchestratorSettings.model_validate(fields)


@pytest.fixture
async def asking(
    llm: FakeChatCompletions, tmp_path: Path
) -> AsyncIterator[Callable[..., Asking]]:
    """Build the chat on a gateway: asking(gateway, **orchestrator settings), or
    asking(gateway, None) for no orchestrator at all."""
    made: list[Orchestrator] = []

    def build(
        on: UnifiedICC,
        settings: OrchestratorSettings | bool | None = True,
        clock: Callable[[], float] = time.monotonic,
        **overrides: Any,
    ) -> Asking:
        chosen = _settings(llm, **overrides) if settings is True else settings or None
        replies, audit = Replies(), AuditLog(tmp_path / "audit.jsonl")
        model = OpenAIChatModel(chosen) if chosen is not None else None
        orchestrator = Orchestrator(settings=chosen, model=model, gateway=on,
                                    replier=replies, audit=audit, clock=clock)  # fmt: skip
        made.append(orchestrator)
        handler = MessageHandler(gateway=on, replier=replies, audit=audit,
                                 prompts=_NoPrompts(), orchestrator=orchestrator)  # fmt: skip
        return Asking(handler, replies, audit.path)

    yield build
    for orchestrator in made:
        await orchestrator.stop()


class _NoPrompts:
    def answering(self, *args: Any) -> None:
        raise AssertionError("no prompt is answered in these tests")

    def not_answered(self, *args: Any) -> None:
        raise AssertionError("no prompt is answered in these tests")


async def _shows(gateway: UnifiedICC, window: WindowId, needle: str) -> str | None:
    screen = await gateway.capture_pane(window)
    return screen if needle in screen else None


async def _shell(gateway: UnifiedICC, world: World, channel: ChannelId = CHANNEL) -> WindowId:
    window = await gateway.create_window(world.workspace, "shell", channel_id=channel)
    await wait_until(lambda: world.agent_entries("started"), what="the agent")
    return window.window_id


async def test_ask_without_an_orchestrator_says_how_to_configure_it(
    asking: Callable[..., Asking],
    gateway: UnifiedICC,
) -> None:
    chat = asking(gateway, None)

    await chat.say("#ask start claude in app")

    assert chat.replies.sent == [NOT_CONFIGURED]
    assert "orchestrator:\n  base_url:" in NOT_CONFIGURED


async def test_start_a_shell_in_a_folder_then_run_a_command_in_it(
    asking: Callable[..., Asking], llm: FakeChatCompletions, world: World
) -> None:
    demo = world.workspace / "projects" / "demo"
    demo.mkdir(parents=True)
    (demo / "marker-3f9a.txt").write_text("here")
    llm.script(call("start_session", folder="projects/demo", provider="shell"),
               call("send_text", text="ls"), say("A shell in projects/demo ran ls."))  # fmt: skip
    async with UnifiedICC(world.bash_config()) as gateway:
        chat = asking(gateway)

        await chat.say("#ask start a shell in projects/demo and run ls")

        await chat.until("ran ls.")
        (window,) = gateway.windows()
        screen = await wait_until(lambda: _shows(gateway, window.window_id, "marker-3f9a.txt"),
                                  what="the ls output")  # fmt: skip
    assert window.cwd == demo.resolve()
    assert "$ ls" in screen
    assert chat.replies.sent == [
        f"🔧 start_session shell in {window.cwd} → window {window.window_id}",
        f"🔧 send_text 'ls' → window {window.window_id}",
        "A shell in projects/demo ran ls.",
    ]
    first, second, _ = llm.requests
    assert {t["function"]["name"] for t in first["tools"]} == TOOLS
    assert first["messages"][0]["role"] == "system"
    assert str(world.workspace.resolve()) in first["messages"][0]["content"]
    asked = "start a shell in projects/demo and run ls"
    assert first["messages"][-1] == {"role": "user", "content": asked}
    assert tool_results(second) == [f"Started window {window.window_id}: shell in {window.cwd}. "
                                     "The chat now talks to it."]  # fmt: skip
    assert [r["detail"].split()[1] for r in chat.audit("tool_call")] == ["start_session",
                                                                         "send_text"]  # fmt: skip


async def test_close_asks_first_and_closes_only_after_yes(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    window = await _shell(gateway, world)
    llm.script(call("close_session"), call("close_session", session=window))
    chat = asking(gateway)

    await chat.say("#ask close it")
    question = await chat.until("Close window")
    assert question.startswith(f"Close window {window} (shell in ")
    assert not gateway.window_info(window).dead
    await chat.say("no")
    await chat.until("Not done: you said no.")
    assert [w.window_id for w in gateway.windows()] == [window]

    await chat.say("#ask close it after all")
    await wait_until(lambda: len([k for k in chat.replies.cards if "confirm" in k]) == 2,
                     what="the second question")  # fmt: skip
    assert [w.window_id for w in gateway.windows()] == [window]
    await chat.say("yes")

    assert await chat.until("Closed window") == f"Closed window {window}."
    assert gateway.windows() == ()
    _, card = chat.confirmation()
    assert buttons(card) == {}  # answered: no more buttons
    answers = [r["detail"].split(":")[0] for r in chat.audit("command")
               if r["detail"].startswith(("#ask declined", "#ask confirmed"))]  # fmt: skip
    assert answers == ["#ask declined", "#ask confirmed"]


async def test_a_tap_on_yes_closes_and_only_the_asker_may_tap(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    window = await _shell(gateway, world)
    llm.script(call("close_session", session=window))
    chat = asking(gateway)
    await chat.say("#ask close my shell")
    await chat.until("Close window")
    _, card = chat.confirmation()
    yes = buttons(card)["Yes"]

    other = chat.handler.tap_confirm(text_event("tap", CHAT, "ou_b"), yes["id"], "yes")
    mine = chat.handler.tap_confirm(text_event("tap", CHAT), yes["id"], "yes")
    again = chat.handler.tap_confirm(text_event("tap", CHAT), yes["id"], "yes")

    assert other.toast == "Only the person who asked can answer this."
    assert other.job is None
    assert again.job is None
    assert mine.job is not None
    assert gateway.windows() != ()
    await mine.job()
    assert await chat.until("Closed window") == f"Closed window {window}."
    assert gateway.windows() == ()


async def test_an_unanswered_question_expires_and_yes_then_goes_to_the_agent(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    window = await _shell(gateway, world)
    llm.script(call("close_session"))
    now = [1000.0]
    chat = asking(gateway, clock=lambda: now[0])
    await chat.say("#ask close it")
    await chat.until("Close window")
    _, card = chat.confirmation()

    now[0] += CONFIRM_WITHIN + 1
    await chat.say("yes")
    tapped = chat.handler.tap_confirm(text_event("tap", CHAT), buttons(card)["Yes"]["id"], "yes")

    submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    assert [s["text"] for s in submitted] == ["yes"]
    assert tapped.toast.startswith("This question expired: nothing was done.")
    assert tapped.job is None
    assert [w.window_id for w in gateway.windows()] == [window]


@pytest.mark.parametrize(
    ("folder", "create", "why"),
    [("/etc", False, "/etc is outside the workspace folders"),
     ("../../../etc", False, "../../../etc is outside the workspace folders"),
     ("out", False, "out is outside the workspace folders"),
     ("out/deeper", True, "out/deeper is outside the workspace folders"),
     ("{tmp}/new", True, "{tmp}/new is outside the workspace folders"),
     ("missing", False, "missing is not a folder in the workspace (set create to make it)")],
)  # fmt: skip
async def test_a_start_outside_the_workspace_is_refused_by_the_tool_layer(
    asking: Callable[..., Asking],
    llm: FakeChatCompletions,
    gateway: UnifiedICC,
    world: World,
    tmp_path: Path,
    folder: str,
    create: bool,
    why: str,
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (world.workspace / "out").symlink_to(tmp_path / "elsewhere")
    folder, why = folder.format(tmp=tmp_path), why.format(tmp=tmp_path)
    llm.script(call("start_session", folder=folder, provider="shell", create=create),
               say("Could not."))  # fmt: skip
    chat = asking(gateway)

    await chat.say("#ask start a shell there")

    await chat.until("Could not.")
    assert chat.replies.sent[0].startswith(f"⛔ start_session refused: {why}")
    assert gateway.windows() == ()
    assert os.listdir(tmp_path / "elsewhere") == []
    assert "new" not in os.listdir(tmp_path)
    (told,) = tool_results(llm.requests[1])
    assert told.startswith(f"Refused: {why}")
    (refusal,) = chat.audit("refusal")
    assert refusal["detail"].startswith("#ask start_session ")


async def test_sending_to_or_closing_another_chats_window_is_refused(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    theirs = await _shell(gateway, world, ChannelId("feishu:main:oc_someone_else"))
    llm.script(
        calls(("send_text", {"session": theirs, "text": "rm -rf ~"}),
              ("read_output", {"session": theirs}), ("switch_session", {"session": theirs}),
              ("close_session", {"session": theirs}), ("send_text", {"text": "hello"})),
        say("None of that was allowed."),
    )  # fmt: skip
    chat = asking(gateway)

    await chat.say("#ask type rm -rf ~ into the other window")

    await chat.until("None of that was allowed.")
    not_ours = f"window {theirs} is not one of this chat's sessions"
    assert chat.replies.sent == [
        f"⛔ send_text refused: {not_ours}",
        f"⛔ read_output refused: {not_ours}",
        f"⛔ switch_session refused: {not_ours}",
        f"⛔ close_session refused: {not_ours}",
        "⛔ send_text refused: this chat talks to no session: name one, or start one",
        "None of that was allowed.",
    ]
    assert world.agent_entries("submit") == []
    assert gateway.channel_router.resolve_window(CHANNEL) is None
    assert not gateway.window_info(theirs).dead
    assert len(chat.audit("refusal")) == 5


async def test_yolo_needs_the_persons_own_word_and_then_their_yes(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    llm.script(call("start_session", folder=".", provider="claude", mode="yolo"), say("No."),
               call("start_session", folder=".", provider="claude", mode="yolo"))  # fmt: skip
    chat = asking(gateway)

    await chat.say("#ask start claude here")
    await chat.until("No.")
    await chat.say("#ask start claude here in YOLO mode")
    question = await chat.until("Start claude")
    assert gateway.windows() == ()
    await chat.say("yes")
    started = await chat.until("Started window")

    refusal = chat.replies.sent[0]
    assert refusal.startswith("⛔ start_session refused: yolo mode runs everything without "
                              "asking, and your message did not ask for it")  # fmt: skip
    assert question.startswith("Start claude in ")
    assert "in yolo mode (it runs everything without asking)?" in question
    (window,) = gateway.windows()
    assert (window.provider, window.mode) == ("claude", "yolo")
    assert started == f"Started window {window.window_id}: claude (yolo) in {window.cwd}."


async def test_only_installed_agents_start(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC
) -> None:
    llm.script(call("start_session", folder=".", provider="gemini"), say("Not installed."))
    chat = asking(gateway)

    await chat.say("#ask start gemini")

    await chat.until("Not installed.")
    assert chat.replies.sent[0] == ("⛔ start_session refused: 'gemini' is not an installed "
                                    "agent (installed: claude, shell)")  # fmt: skip
    assert gateway.windows() == ()


@pytest.mark.parametrize(
    ("step", "overrides", "expected"),
    [(None, {"api_key": "sk-wrong"}, "refused the key (HTTP 401): check orchestrator.api_key"),
     (hang(5), {"timeout": 1, "max_retries": 0}, "did not answer within 1 s. Ask again later, or "
                                                 "raise orchestrator.timeout"),
     (fail(429, f"Quota exceeded for {DEFAULT_KEY}"), {"max_retries": 0},
      "is rate-limiting these requests or the quota is spent (HTTP 429: Quota exceeded"),
     (fail(500, "boom"), {"max_retries": 0}, "answered HTTP 500: boom")],
    ids=["401", "timeout", "429", "500"],
)  # fmt: skip
async def test_each_failure_of_the_endpoint_gets_its_own_message(
    asking: Callable[..., Asking],
    gateway: UnifiedICC,
    llm: FakeChatCompletions,
    step: Any,
    overrides: dict[str, Any],
    expected: str,
) -> None:
    if step is not None:
        llm.script(step)
    chat = asking(gateway, **overrides)

    await chat.say("#ask list my sessions")

    answer = await chat.until("The orchestrator's model (fake-glm at 127.0.0.1:")
    assert expected in answer
    assert "sk-wrong" not in answer
    assert DEFAULT_KEY not in answer
    assert len(chat.replies.sent) == 1


async def test_an_endpoint_that_is_not_there_is_named(
    asking: Callable[..., Asking],
    gateway: UnifiedICC, llm: FakeChatCompletions
) -> None:
    chat = asking(gateway, base_url="http://127.0.0.1:9/v1", max_retries=0)

    await chat.say("#ask list my sessions")

    answer = await chat.until("Cannot reach")
    assert answer.startswith("Cannot reach The orchestrator's model (fake-glm at 127.0.0.1:9)")
    assert answer.endswith("Is the endpoint up, and orchestrator.base_url right?")


async def test_a_malformed_tool_call_is_told_to_the_chat_and_the_model(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC
) -> None:
    llm.script(calls(("list_sessions", {"verbose": True}), ("rm_rf", {})),
               raw_call("start_session", "{not json"), say("Sorry."))  # fmt: skip
    chat = asking(gateway)

    await chat.say("#ask do things")

    await chat.until("Sorry.")
    assert chat.replies.sent[:3] == [
        "⚠️ list_sessions: malformed tool call (verbose: Extra inputs are not permitted)",
        "⚠️ rm_rf: malformed tool call (there is no tool 'rm_rf' (there are: list_sessions, "
        "start_session, send_text, read_output, switch_session, close_session))",
        "⚠️ start_session: malformed tool call (its arguments are not a JSON object)",
    ]
    assert all(r.startswith("Malformed tool call: ") for r in tool_results(llm.requests[-1]))
    assert gateway.windows() == ()


async def test_an_orchestrator_that_never_stops_calling_tools_is_stopped(
    asking: Callable[..., Asking],
    gateway: UnifiedICC, llm: FakeChatCompletions
) -> None:
    llm.forever(call("list_sessions"))
    chat = asking(gateway, max_tool_calls=3)

    await chat.say("#ask loop forever")

    stopped = await chat.until("Stopped after")
    assert stopped.startswith("Stopped after 3 tool calls without an answer")
    assert chat.replies.sent.count("🔧 list_sessions → 0 session(s)") == 3
    assert len(chat.audit("tool_call")) == 3
    assert len(llm.requests) == 4


async def test_a_second_ask_while_one_runs_is_told_to_wait(
    asking: Callable[..., Asking],
    gateway: UnifiedICC, llm: FakeChatCompletions
) -> None:
    llm.script(hang(2, say("First done.")), say("Second done."))
    chat = asking(gateway)

    await chat.say("#ask first")
    await wait_until(lambda: llm.requests, what="the first request")
    await chat.say("#ask second")

    await chat.until("First done.")
    assert chat.replies.sent == [BUSY, "First done."]


async def test_the_next_ask_carries_the_chats_short_history(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    window = await _shell(gateway, world)
    llm.script(call("list_sessions"), say("You have one shell."), say("It is the shell."))
    chat = asking(gateway, history=1)

    await chat.say("#ask what runs here?")
    await chat.until("You have one shell.")
    await chat.say("#ask which one was it?")
    await chat.until("It is the shell.")

    history = llm.requests[-1]["messages"][1:]
    assert history[0] == {"role": "user", "content": "what runs here?"}
    assert history[1]["role"] == "assistant"
    assert history[1]["content"] == ("🔧 list_sessions → 1 session(s)\nYou have one shell.")
    assert history[2] == {"role": "user", "content": "which one was it?"}
    assert f"{window}: shell in " in llm.requests[0]["messages"][0]["content"]


async def test_a_bound_chat_talks_to_its_agent_and_an_unbound_one_to_the_orchestrator(
    asking: Callable[..., Asking], llm: FakeChatCompletions, gateway: UnifiedICC, world: World
) -> None:
    llm.script(say("Nothing runs in this chat yet."))
    chat = asking(gateway, unbound_chats=True)

    await chat.say("what runs here?")
    await chat.until("Nothing runs in this chat yet.")
    await _shell(gateway, world)
    await chat.say("yes")  # no question is pending: a plain message for the agent

    submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    assert [s["text"] for s in submitted] == ["yes"]
    assert len(llm.requests) == 1
    assert llm.requests[0]["messages"][-1] == {"role": "user", "content": "what runs here?"}


async def test_the_key_reaches_only_the_endpoint(
    asking: Callable[..., Asking],
    gateway: UnifiedICC, llm: FakeChatCompletions, tmp_path: Path
) -> None:
    llm.script(call("list_sessions"), say("Done."))
    chat = asking(gateway)

    await chat.say("#ask list")
    await chat.until("Done.")

    assert llm.keys_seen == [llm.key, llm.key]
    assert llm.key not in (tmp_path / "audit.jsonl").read_text()
    assert not any(llm.key in text for text in chat.replies.sent)


# -- fuzzing the tool layer --------------------------------------------------------------------

THEIRS = "<their window>"  # replaced by the other chat's window id
ODD_VALUES = st.one_of(
    st.text(max_size=30), st.integers(), st.booleans(), st.none(),
    st.lists(st.integers(), max_size=2),
    st.sampled_from(["/etc", "..", "../..", "~", "~root", ".", "/", "a/../../..", "@1", "@999",
                     "current", "", "\x00", "\ud800", "x" * 5000, "gemini", "yolo",
                     "standard", "out", "out/deeper", "$(id)", "-rf", THEIRS]),
)  # fmt: skip
ARGUMENT_NAMES = st.sampled_from(["folder", "provider", "mode", "create", "text", "session",
                                  "lines", "verbose"])  # fmt: skip
ARGUMENTS = st.one_of(st.dictionaries(ARGUMENT_NAMES, ODD_VALUES, max_size=5).map(json.dumps),
                      st.text(max_size=20))  # fmt: skip
TOOL_NAMES = st.one_of(st.sampled_from(sorted(TOOLS)), st.text(max_size=12))
FOLDERS = st.one_of(st.sampled_from(["/etc", "/", "..", "../..", "a/../../..", "~", "~root",
                                     ".", "out", "out/deeper", "new/inside", "$(id)", "-rf",
                                     "\x00", "x" * 300]),
                    st.text(max_size=20))  # fmt: skip
STARTS = st.fixed_dictionaries(
    {"folder": FOLDERS, "provider": st.sampled_from(["shell", "gemini", "nope"]),
     "create": st.booleans()},
    optional={"mode": st.sampled_from(["standard", "yolo", "root"])},
).map(json.dumps)  # fmt: skip
SESSIONS = st.sampled_from([THEIRS, "current", "@0", "@1", "@2", " ", "@-1"])
SENDS = st.fixed_dictionaries(
    {"session": SESSIONS, "text": st.sampled_from(["ls", "x" * 5000, "\x1b[A", "ok\nrm"])}
).map(json.dumps)
AIMED = st.fixed_dictionaries({"session": SESSIONS}).map(json.dumps)
CALLS = st.one_of(
    st.tuples(TOOL_NAMES, ARGUMENTS),
    st.tuples(st.just("start_session"), STARTS),
    st.tuples(st.just("send_text"), SENDS),
    st.tuples(st.sampled_from(["read_output", "switch_session", "close_session"]), AIMED),
)


def _folders_outside(world: World, tmp_path: Path) -> set[Path]:
    found: set[Path] = set()
    for folder, subfolders, _ in os.walk(tmp_path):
        here = Path(folder)
        kept = (world.workspace, world.config_dir, world.home)
        subfolders[:] = [n for n in subfolders if here / n not in kept]
        found.update(here / n for n in subfolders)
    return found


@pytest.mark.timeout(300)
@settings(
    max_examples=100,
    derandomize=True,  # seeded: the same examples on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tool_call=CALLS, asked=st.sampled_from(["do it", "do it in yolo"]))
async def test_any_tool_call_is_answered_and_stays_in_the_chats_powers(
    gateway: UnifiedICC, world: World, tmp_path: Path, tool_call: tuple[str, str], asked: str
) -> None:
    name, arguments = tool_call
    if not gateway.windows():  # once per fixture: our session, and another chat's
        (tmp_path / "elsewhere").mkdir()
        (world.workspace / "out").symlink_to(tmp_path / "elsewhere")
        await _shell(gateway, world)
        await gateway.create_window(world.workspace, "shell",
                                    channel_id=ChannelId("feishu:main:oc_theirs"))  # fmt: skip
        await wait_until(lambda: len(world.agent_entries("started")) == 2, what="their agent")
        theirs = next(w for w in gateway.windows() if w.channel_id != CHANNEL)
        await gateway.send_to_window(theirs.window_id, "their-secret-7d1e")
        await wait_until(lambda: _shows(gateway, theirs.window_id, "got: their-secret-7d1e"),
                         what="their agent's answer")  # fmt: skip
    before = _folders_outside(world, tmp_path)
    theirs = next(w for w in gateway.windows() if w.channel_id != CHANNEL)
    their_screen = await gateway.capture_pane(theirs.window_id)

    arguments = arguments.replace(THEIRS, theirs.window_id)
    result = await ChatTools(gateway=gateway).call(CHANNEL, name, arguments, asked)

    assert result.line
    assert result.content
    assert "their-secret-7d1e" not in result.content
    assert _folders_outside(world, tmp_path) == before
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert await gateway.capture_pane(theirs.window_id) == their_screen
    assert gateway.channel_router.resolve_window(ChannelId("feishu:main:oc_theirs")) == (
        theirs.window_id)  # fmt: skip
    assert all(w.cwd.is_relative_to(world.workspace.resolve()) for w in gateway.windows())
    for started in gateway.windows()[2:]:  # keep the next example's tmux small
        await gateway.kill_window(started.window_id)
