"""What a chat sees of an agent: one growing card per turn, a notice at its end, prompt cards.

The relay runs on a real gateway (a private tmux server) and its journal, with the real outbox
and chat senders in front of a chat-shaped surface that keeps every card as it stands after
each send or patch (and, like Feishu, shows a create repeated with the same uuid once).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from cclark.chat_senders import ChatSenders, SenderSettings
from cclark.errors import FeishuPermissionError
from cclark.outbox import Outbox
from cclark.relay import ChatRelay
from chat_view import buttons, card_text, colour
from support import World
from unified_icc import (
    AgentMessage,
    AgentMessageEvent,
    AgentStatus,
    ApiProblem,
    ChannelId,
    MessageKind,
    MessageRole,
    PromptInfo,
    PromptKind,
    PromptOption,
    StatusEvent,
    UnifiedICC,
    WindowChange,
    WindowEvent,
    WindowId,
)

pytestmark = pytest.mark.integration

CHAT = ChannelId("feishu:main:oc_relay")
OTHER_APP = ChannelId("feishu:other:oc_relay")


class Chat:
    """Messages as the chat shows them: text, or the card's latest JSON."""

    def __init__(self) -> None:
        self.messages: dict[str, tuple[ChannelId, str, Any]] = {}
        self.uuids: dict[str, str] = {}

    async def send_card(
        self, channel_id: ChannelId, card: Mapping[str, Any], *, uuid: str | None = None
    ) -> str:
        return self._add(channel_id, "card", json.loads(json.dumps(card)), uuid)

    async def send_text(
        self, channel_id: ChannelId, text: str, *, uuid: str | None = None
    ) -> tuple[str, ...]:
        return (self._add(channel_id, "text", text, uuid),)

    async def update_card(self, message_id: str, card: Mapping[str, Any]) -> None:
        channel, kind, _ = self.messages[message_id]
        self.messages[message_id] = (channel, kind, json.loads(json.dumps(card)))

    async def create_card_entity(self, card: Mapping[str, Any]) -> str:
        # An app without CardKit: streamed turn cards fall back to being patched (CardKit
        # itself is tested against the emulator).
        raise FeishuPermissionError(code=99991672, msg="no cardkit", http_status=400,
                                    scopes=("cardkit:card:write",))  # fmt: skip

    def _add(self, channel_id: ChannelId, kind: str, body: Any, uuid: str | None) -> str:
        if uuid is not None and uuid in self.uuids:
            return self.uuids[uuid]
        message_id = f"om_{len(self.messages) + 1}"
        self.messages[message_id] = (channel_id, kind, body)
        if uuid is not None:
            self.uuids[uuid] = message_id
        return message_id

    def cards(self) -> list[dict[str, Any]]:
        return [body for _, kind, body in self.messages.values() if kind == "card"]

    def texts(self) -> list[str]:
        return [body for _, kind, body in self.messages.values() if kind == "text"]


def _message(n: int, kind: MessageKind, text: str, role: MessageRole = MessageRole.ASSISTANT,
             **tool: str) -> AgentMessage:  # fmt: skip
    return AgentMessage(id=f"m{n}", role=role, kind=kind, text=text, **tool)


def user(n: int, text: str) -> AgentMessage:
    return _message(n, MessageKind.TEXT, text, MessageRole.USER)


def reply(n: int, text: str) -> AgentMessage:
    return _message(n, MessageKind.TEXT, text)


OPTIONS = ("Yes", "Yes, and don't ask again", "No")
PROMPT = PromptInfo(
    kind=PromptKind.PERMISSION,
    title="Bash command",
    body="touch approved.txt\nCreate a file",
    options=tuple(
        PromptOption(number=n, label=label, selected=n == 1)
        for n, label in enumerate(OPTIONS, start=1)
    ),
)


class Harness:
    def __init__(
        self, relay: ChatRelay, chat: Chat, senders: ChatSenders, gateway: UnifiedICC,
        window: WindowId,
    ) -> None:  # fmt: skip
        self.relay, self.chat, self.senders, self.window = relay, chat, senders, window
        self.journal = gateway.journal

    async def messages(self, *messages: AgentMessage) -> None:
        async with self.journal.unit():  # as the gateway's event bus runs callbacks
            await self.relay.on_message(AgentMessageEvent(window_id=self.window, session_id=None,
                                                          channel_ids=(CHAT, OTHER_APP),
                                                          messages=messages))  # fmt: skip
        await self.senders.flush()

    async def status(
        self, status: AgentStatus, prompt: PromptInfo | None = None, *, ended: bool | None = None
    ) -> None:
        """A status change; an IDLE ends the turn unless ended=False (a pause between steps)."""
        turn_ended = status is AgentStatus.IDLE if ended is None else ended
        async with self.journal.unit():
            await self.relay.on_status(StatusEvent(window_id=self.window, channel_ids=(CHAT,),
                                                   status=status, prompt=prompt,
                                                   turn_ended=turn_ended))  # fmt: skip
        await self.senders.flush()

    async def window_event(
        self, kind: WindowChange, *, reason: str = "", exit_status: int | None = None,
        window: WindowId | None = None,
    ) -> None:  # fmt: skip
        event = WindowEvent(window_id=window or self.window, kind=kind, channel_ids=(CHAT,),
                            provider="shell", reason=reason, exit_status=exit_status)  # fmt: skip
        async with self.journal.unit():
            await self.relay.on_window_change(event)
        await self.senders.flush()


@pytest.fixture
async def harness(gateway: UnifiedICC, world: World) -> AsyncIterator[Harness]:
    (world.workspace / "demo").mkdir()
    window = await gateway.create_window(world.workspace / "demo", "shell", channel_id=CHAT)
    chat, journal = Chat(), gateway.journal
    outbox = Outbox(journal)
    relay = ChatRelay(app_name="main", outbox=outbox, gateway=gateway)
    relay.load(journal)
    senders = ChatSenders(app_name="main", outbox=outbox, journal=journal, surface=chat,
                          settings=SenderSettings(card_updates_per_second=1000))  # fmt: skip
    try:
        yield Harness(relay, chat, senders, gateway, window.window_id)
    finally:
        await senders.stop()


async def test_a_turn_is_one_card_that_keeps_every_part_and_ends_green_with_one_notice(
    harness: Harness,
) -> None:
    await harness.messages(user(1, "build it"), reply(2, "Looking at the files first."))
    await harness.messages(
        _message(3, MessageKind.TOOL_USE, "Bash: ls", tool_name="Bash", tool_id="t1"),
        _message(4, MessageKind.TOOL_RESULT, "a.py\nb.py", tool_id="t1"),
        _message(5, MessageKind.TOOL_USE, "Read: a.py", tool_name="Read", tool_id="t2"),
    )
    await harness.messages(reply(6, "All done: **2 files**."))
    (working,) = harness.chat.cards()
    await harness.status(AgentStatus.IDLE)
    await harness.status(AgentStatus.IDLE)

    (card,) = harness.chat.cards()
    text = card_text(card)
    assert card["header"]["title"]["content"] == "shell · demo"
    for part in ("Looking at the files first.", "Bash", "a.py", "Read", "All done: **2 files**."):
        assert part in text
    assert text.index("Looking at") < text.index("Read") < text.index("All done")
    assert "build it" not in text  # the person's words are already in the chat
    assert (colour(working), colour(card)) == ("blue", "green")
    assert "✅ done" in text
    assert harness.chat.texts() == ["✅ shell · demo: All done: **2 files**."]


async def test_the_next_message_from_the_person_starts_a_new_card(harness: Harness) -> None:
    await harness.messages(user(1, "first"), reply(2, "one"))
    await harness.status(AgentStatus.IDLE)
    await harness.messages(user(3, "second"), reply(4, "two"))

    first, second = harness.chat.cards()
    assert "one" in card_text(first)
    assert "two" not in card_text(first)
    assert "two" in card_text(second)
    assert (colour(first), colour(second)) == ("green", "blue")


async def test_a_turn_too_big_for_one_card_continues_in_the_next_without_losing_a_line(
    harness: Harness,
) -> None:
    lines = [f"line {i:05d} " + "x" * 60 for i in range(800)]
    replies = [reply(2 + i, "\n".join(lines[i * 100 : (i + 1) * 100])) for i in range(8)]
    await harness.messages(user(1, "long"), *replies)

    cards = harness.chat.cards()
    shown = "\n".join(card_text(c) for c in cards)
    assert len(cards) > 1
    assert all(f"line {i:05d}" in shown for i in range(800))


async def test_output_after_the_turn_ended_lands_in_the_same_card_without_a_second_notice(
    harness: Harness,
) -> None:
    await harness.messages(user(1, "go"), reply(2, "first part"))
    await harness.status(AgentStatus.IDLE)
    await harness.messages(reply(3, "a late line"))

    (card,) = harness.chat.cards()
    assert "a late line" in card_text(card)
    assert len(harness.chat.texts()) == 1


async def test_an_idle_screen_between_two_steps_does_not_end_the_turn(harness: Harness) -> None:
    await harness.messages(user(1, "go"), reply(2, "step one"))
    await harness.status(AgentStatus.IDLE, ended=False)
    await harness.status(AgentStatus.WORKING)
    await harness.messages(reply(3, "step two"))
    paused = colour(harness.chat.cards()[0])
    await harness.status(AgentStatus.IDLE)

    assert paused == "blue"
    assert harness.chat.texts() == ["✅ shell · demo: step two"]


async def test_more_work_after_the_end_reopens_the_turn_and_its_end_is_told_again(
    harness: Harness,
) -> None:
    await harness.messages(user(1, "go"), reply(2, "part one"))
    await harness.status(AgentStatus.IDLE)
    await harness.status(AgentStatus.WORKING)
    await harness.messages(reply(3, "part two"))
    reopened = colour(harness.chat.cards()[0])
    await harness.status(AgentStatus.IDLE)

    assert reopened == "blue"
    assert harness.chat.texts() == ["✅ shell · demo: part one", "✅ shell · demo: part two"]


async def test_a_reply_written_after_the_turn_was_reported_over_still_ends_it_once(
    harness: Harness,
) -> None:
    await harness.messages(user(1, "quick"))
    await harness.status(AgentStatus.IDLE)
    await harness.messages(reply(2, "done already"))
    await harness.messages(reply(3, "a late line"))

    (card,) = harness.chat.cards()
    assert colour(card) == "green"
    assert "a late line" in card_text(card)
    assert harness.chat.texts() == ["✅ shell · demo: done already"]


async def test_a_turn_the_person_interrupted_ends_without_a_stop_hook(harness: Harness) -> None:
    await harness.messages(user(1, "go"), reply(2, "I'll run that."))
    await harness.messages(
        _message(3, MessageKind.INTERRUPT, "[Request interrupted by user for tool use]",
                 MessageRole.USER))  # fmt: skip

    (card,) = harness.chat.cards()
    assert colour(card) == "green"
    assert "[Request interrupted by user for tool use]" in card_text(card)
    assert harness.chat.texts() == ["✅ shell · demo: I'll run that."]


async def test_a_refusal_ends_its_prompt_s_turn_red_once(
    harness: Harness,
) -> None:
    await harness.messages(user(1, "first"), reply(2, "First answer."))
    await harness.status(AgentStatus.IDLE)
    refusal = AgentMessage(id="m4", role=MessageRole.ASSISTANT, kind=MessageKind.API_ERROR,
                           text="API Error: Request rejected (429)",
                           problem=ApiProblem.RATE_LIMIT)  # fmt: skip

    # (Claude writes the refusal first in its file; the parser reads a batch in time order.)
    await harness.messages(user(3, "second"), refusal)
    await harness.status(AgentStatus.IDLE)

    first, second, problem = harness.chat.cards()
    assert colour(first) == "green"
    assert "API Error" not in card_text(first)
    assert colour(second) == "red"
    assert "API Error: Request rejected (429)" in card_text(second)
    assert "⏳ Rate limited" in card_text(problem)
    assert harness.chat.texts() == ["✅ shell · demo: First answer."]


async def test_a_prompt_is_an_orange_card_patched_with_the_chat_answer(harness: Harness) -> None:
    await harness.status(AgentStatus.PROMPT, PROMPT)
    (asked,) = harness.chat.cards()
    asked_text = card_text(asked)
    harness.relay.prompts.answering(harness.window, PROMPT, 1, "You")
    await harness.status(AgentStatus.WORKING)

    (answered,) = harness.chat.cards()
    assert colour(asked) == "orange"
    for line in ("touch approved.txt", "**1.** Yes", "**2.** Yes, and don't ask again",
                 "**3.** No", "Reply with a number (1\u20133)"):  # fmt: skip
        assert line in asked_text
    assert colour(answered) == "green"
    assert "You chose **1.** Yes" in card_text(answered)


async def test_a_prompt_answered_at_the_desk_says_so_and_an_identical_one_gets_a_new_card(
    harness: Harness,
) -> None:
    await harness.status(AgentStatus.PROMPT, PROMPT)
    await harness.status(AgentStatus.WORKING)
    await harness.status(AgentStatus.PROMPT, PROMPT)

    first, second = harness.chat.cards()
    assert "Answered in the terminal" in card_text(first)
    assert colour(second) == "orange"


async def test_moving_the_cursor_over_the_options_is_not_a_new_prompt(harness: Harness) -> None:
    await harness.status(AgentStatus.PROMPT, PROMPT)
    moved = dataclasses.replace(PROMPT, options=tuple(
        dataclasses.replace(o, selected=o.number == 3) for o in PROMPT.options))  # fmt: skip
    await harness.status(AgentStatus.PROMPT, moved)

    (card,) = harness.chat.cards()
    assert colour(card) == "orange"
    assert "\u276f **3.** No" in card_text(card)  # the cursor is where the screen has it


async def test_an_answer_read_before_its_card_was_shown_still_names_the_choice(
    harness: Harness,
) -> None:
    harness.relay.prompts.answering(harness.window, PROMPT, 3, "You")
    await harness.status(AgentStatus.PROMPT, PROMPT)
    await harness.status(AgentStatus.WORKING)

    (card,) = harness.chat.cards()
    assert "You chose **3.** No" in card_text(card)


async def test_a_failed_chat_answer_leaves_the_card_to_the_terminal(harness: Harness) -> None:
    await harness.status(AgentStatus.PROMPT, PROMPT)
    harness.relay.prompts.answering(harness.window, PROMPT, 1, "You")
    harness.relay.prompts.not_answered(harness.window)
    await harness.status(AgentStatus.IDLE)

    assert "Answered in the terminal" in card_text(harness.chat.cards()[0])


async def test_an_exit_ends_the_turn_in_red_and_offers_to_resume(harness: Harness) -> None:
    await harness.messages(user(1, "go"), reply(2, "working on it"))
    await harness.window_event(WindowChange.DIED, exit_status=3)
    await harness.status(AgentStatus.DEAD)

    turn, ended = harness.chat.cards()
    assert colour(turn) == "red"
    assert "shell · demo: the agent has exited (status 3)" in card_text(ended)
    assert "#resume" in card_text(ended)
    resume = buttons(ended)["▶️ Resume"]
    assert resume == {"k": "session", "c": CHAT, "w": harness.window, "op": "resume"}
    assert harness.chat.texts() == []


async def test_a_window_gone_from_tmux_says_to_start_anew(harness: Harness) -> None:
    await harness.window_event(WindowChange.DIED, window=WindowId("@999"))

    assert harness.chat.cards() == []
    assert harness.chat.texts() == [
        "The agent's window is gone (closed outside cclark, or tmux stopped). "
        "Send #new to start a new session."
    ]


async def test_sleep_wake_and_a_stopped_turn_are_each_told_in_one_line(harness: Harness) -> None:
    await harness.window_event(WindowChange.ASLEEP, reason="idle for 10 min")
    await harness.window_event(WindowChange.RESUMED, reason="session abc reopened")
    await harness.window_event(WindowChange.TURN_TIMED_OUT,
                               reason="the turn ran longer than 5 min")  # fmt: skip

    assert harness.chat.texts() == [
        "💤 shell · demo is asleep (idle for 10 min). Its conversation is kept: your next "
        "message wakes it.",
        "▶️ shell · demo is running again: session abc reopened.",
        "⏱ Interrupted: the turn ran longer than 5 min. Send a message to go on, or "
        "#new --timeout N for a longer limit.",
    ]


async def test_another_apps_chats_get_nothing_from_this_process(harness: Harness) -> None:
    await harness.messages(user(1, "go"), reply(2, "hello"))

    assert {channel for channel, _, _ in harness.chat.messages.values()} == {CHAT}
