"""Fuzzing the dispatcher: whatever a person sends, in whatever state the chat is, the bot answers.

Arbitrary text (control characters, lone surrogates, right-to-left marks, Unicode digits,
20,000-character strings, commands with odd arguments) goes as a raw ``im.message.receive_v1``
event through the real Dispatcher and MessageHandler to a real gateway on a private tmux server,
in every state a chat can be in: no window, the ``#new`` wizard at each step, a bound agent, a
prompt waiting for a number. For every message: no exception escapes, the person gets an answer
unless the text went to the agent (audited), and no folder appears outside the workspace roots.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import operator
import os
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cclark.audit import AuditLog
from cclark.event_parsers import FeishuMessageEvent, channel_id_for
from cclark.handlers import Dispatcher, InboundPolicy, MessageHandler
from cclark.seen_messages import SeenMessages
from chat_view import card_text
from support import World, wait_until
from unified_icc import PromptInfo, UnifiedICC, WindowId

pytestmark = pytest.mark.integration

USER = "ou_fuzzer"
APP = "main"
HANDLED_TIMEOUT = 60.0
SILENT_KINDS = frozenset({"keystrokes", "prompt_answer"})  # the text went to the agent

# -- what is sent ------------------------------------------------------------------------------

UNICODE_DIGITS = st.text(st.characters(categories=["Nd", "Nl", "No"]), min_size=1, max_size=8)
SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4)
INVISIBLE = st.text(  # control characters, RTL/LTR marks and overrides, zero-width joiners
    st.characters(categories=["Cc", "Cf"], include_characters="\u200f\u202e\u2066"),
    min_size=1,
    max_size=8,
)
LONG = st.builds(operator.mul, st.characters(), st.integers(min_value=256, max_value=20_000))
ANYTHING = st.text(st.characters(), max_size=40)
ODD = st.one_of(UNICODE_DIGITS, SURROGATES, INVISIBLE, LONG, ANYTHING)
COMMAND_HEADS = ("#new ", "#select ", "#mkdir ", "#session switch ", "#session close ",
                 "#verbose ", "#status ", "#esc ", "#help ", "#cancel ", "#ask ", "#", "ok ",
                 ".. ")  # fmt: skip
NAMED = ("²", "①", "٣", "5" * 5000, "x" * 20_000, "#select " + "y" * 300, "#mkdir " + "z" * 300,
         "#mkdir ~", "#mkdir $(id)", "#mkdir ..", "..", "ok", "1", "2", "3", "4", "0", "9" * 7,
         "\u200f1", "1\u200e", "\x00", "\ud800", "@_user_1", "")  # fmt: skip
TEXT = st.one_of(
    ODD,
    st.builds(operator.add, st.sampled_from(COMMAND_HEADS), ODD),
    st.sampled_from(NAMED),
)


class State(StrEnum):
    NO_WINDOW = "no window"
    WIZARD_ROOT = "wizard: which workspace"
    WIZARD_DIRECTORY = "wizard: which folder"
    WIZARD_PROVIDER = "wizard: which agent"
    WIZARD_MODE = "wizard: which mode"
    BOUND = "a bound agent"
    PROMPT = "a prompt waiting"


WIZARD_STEPS = {
    State.WIZARD_ROOT: ("#new",),
    State.WIZARD_DIRECTORY: ("#new", "1"),
    State.WIZARD_PROVIDER: ("#new", "1", "ok"),
    State.WIZARD_MODE: ("#new", "1", "ok", "claude"),
}
EXAMPLES = 100


# -- the rig -----------------------------------------------------------------------------------


class NoAnswers:
    """The prompt cards' side of an answer; the fuzz test only needs it to exist."""

    def answering(self, window_id: WindowId, prompt: PromptInfo, choice: int, by: str) -> None:
        pass

    def not_answered(self, window_id: WindowId) -> None:
        pass


@dataclass
class Rig:
    """Dispatcher → MessageHandler → real gateway, and what each message id got back."""

    gateway: UnifiedICC
    world: World
    audit_path: Path
    dispatcher: Dispatcher | None = None
    replies: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    handled: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    escaped: dict[str, BaseException] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=itertools.count)
    folders_before: set[Path] = field(default_factory=set)

    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None:
        self.replies[event.message_id].append(text)

    async def reply_image(self, event: FeishuMessageEvent, png: bytes) -> None:
        self.replies[event.message_id].append(f"<image of {len(png)} bytes>")

    async def reply_card(self, event: FeishuMessageEvent, key: str, card: dict[str, Any]) -> None:
        self.replies[event.message_id].append(card_text(card))

    async def react(self, event: FeishuMessageEvent, receipt: object) -> None:
        self.replies[event.message_id].append(f"<receipt {receipt}>")

    async def send(self, chat: str, text: str) -> str:
        """Post text as a raw event, wait until the handler finished it; its message id."""
        assert self.dispatcher is not None
        message_id = f"om_fuzz_{next(self.ids)}"
        content = json.dumps({"text": text})  # a lone surrogate travels as "\ud800", as on the wire
        now = str(int(time.time() * 1000))
        raw = {
            "schema": "2.0",
            "header": {"event_id": f"ev_{message_id}", "event_type": "im.message.receive_v1",
                       "create_time": now, "app_id": "cli_fuzz"},
            "event": {"sender": {"sender_id": {"open_id": USER}, "sender_type": "user"},
                      "message": {"message_id": message_id, "chat_id": chat, "chat_type": "p2p",
                                  "message_type": "text", "content": content,
                                  "create_time": now}},
        }  # fmt: skip
        await self.dispatcher.accept(raw)
        async with asyncio.timeout(HANDLED_TIMEOUT):
            await self.handled[message_id].wait()
        return message_id

    async def handle(self, handler: MessageHandler, event: FeishuMessageEvent) -> None:
        try:
            await handler.handle(event)
        except BaseException as exc:
            self.escaped[event.message_id] = exc
            raise
        finally:
            self.handled[event.message_id].set()

    def went_to_agent(self, message_id: str) -> bool:
        lines = self.audit_path.read_text(encoding="utf-8").splitlines()
        return any(
            record["message_id"] == message_id and record["kind"] in SILENT_KINDS
            for record in map(json.loads, lines)
        )


@pytest.fixture
async def rig(world: World, tmp_path: Path) -> AsyncIterator[Rig]:
    second = world.root / "second-root"
    second.mkdir()
    config = world.config(workspace_roots=(world.workspace, second))
    async with UnifiedICC(config) as gateway:
        audit = AuditLog(tmp_path / "audit.jsonl")
        made = Rig(gateway=gateway, world=world, audit_path=audit.path)
        handler = MessageHandler(gateway=gateway, replier=made, audit=audit, prompts=NoAnswers())

        async def handle(event: FeishuMessageEvent) -> None:
            await made.handle(handler, event)

        made.dispatcher = Dispatcher(
            policy=InboundPolicy(app_name=APP, allows=lambda user: user == USER,
                                 started_at_ms=int(time.time() * 1000)),
            seen=SeenMessages(),
            audit=audit,
            replier=made,
            handle=handle,
        )  # fmt: skip
        made.folders_before = folders_outside_roots(world)
        try:
            yield made
        finally:
            await made.dispatcher.stop()


def folders_outside_roots(world: World) -> set[Path]:
    """Every folder under the test's root and the working directory, but for the roots' own
    contents and the folders the gateway and the agents keep their state in."""
    kept = (world.workspace, world.root / "second-root", world.config_dir, world.root / "tmux",
            world.home / ".claude")  # fmt: skip
    found = {Path.cwd() / name for name in os.listdir(Path.cwd())}
    for folder, subfolders, _ in os.walk(world.root):
        here = Path(folder)
        subfolders[:] = [name for name in subfolders if here / name not in kept]
        found.update(here / name for name in subfolders)
    return found


# -- putting a chat in a state -----------------------------------------------------------------


async def chat_in(rig: Rig, state: State) -> str:
    """A chat in ``state``: a fresh chat for the first five, the agents' own chats after."""
    if state in (State.BOUND, State.PROMPT):
        return await _agent_chat(rig, state)
    chat = f"oc_fuzz_{next(rig.ids)}"
    for text in WIZARD_STEPS.get(state, ()):
        await rig.send(chat, text)
    return chat


async def _agent_chat(rig: Rig, state: State) -> str:
    chat = "oc_fuzz_bound" if state is State.BOUND else "oc_fuzz_prompt"
    channel = channel_id_for(APP, chat)
    await rig.send(chat, "#cancel")  # a #new sent last time must not swallow this one
    window = rig.gateway.channel_router.resolve_window(channel)
    if window is None or rig.gateway.window_info(window).dead:
        await rig.gateway.kill_channel_windows(channel)
        provider = "shell" if state is State.BOUND else "claude"
        info = await rig.gateway.create_window(rig.world.workspace, provider, channel_id=channel)
        window = info.window_id
    if state is State.PROMPT and rig.gateway.status_of(window)[1] is None:
        await rig.gateway.send_to_window(window, "ASK: touch approved-by-fuzz.txt")
        await wait_until(lambda: rig.gateway.status_of(window)[1], within=30, what="a prompt")
    return chat


# -- the property ------------------------------------------------------------------------------


@pytest.mark.timeout(600)
@pytest.mark.parametrize("state", list(State), ids=lambda s: s.name.lower())
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # seeded: the same examples on every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.large_base_example],
)  # fmt: skip
@given(text=TEXT)
async def test_any_text_in_any_state_is_answered_and_crashes_nothing(
    rig: Rig, state: State, text: str
) -> None:
    chat = await chat_in(rig, state)

    message_id = await rig.send(chat, text)

    raised = rig.escaped.get(message_id)
    assert raised is None, f"{state}: {text[:80]!r} raised {raised!r}"
    answered = rig.replies.get(message_id) or rig.went_to_agent(message_id)
    assert answered, f"{state}: {text[:80]!r} got no answer and did not reach the agent"
    assert folders_outside_roots(rig.world) == rig.folders_before, f"{state}: {text[:80]!r}"
