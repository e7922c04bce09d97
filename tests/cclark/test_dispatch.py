"""Dispatcher: who gets through, how often, and in which order (events as Feishu sends them)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from cclark.audit import AuditLog
from cclark.config import GroupMessages
from cclark.errors import FeishuApiError
from cclark.event_parsers import FeishuMessageEvent
from cclark.handlers import Dispatcher, InboundPolicy
from cclark.handlers.dispatch import NOT_TEXT
from cclark.seen_messages import SeenMessages
from support import wait_until

STARTED_MS = 1_800_000_000_000


def event(message_id: str, text: str | None = "hello", *, sender: str = "ou_alice",
          chat: str = "oc_1", sender_type: str = "user", created_ms: int = STARTED_MS + 10,
          message_type: str = "text", chat_type: str = "p2p",
          mentions: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    resource = {"image_key": "k", "file_key": "k"}
    content = json.dumps({"text": text} if text is not None else resource)
    mentioned = [{"key": f"@_user_{i}", "id": {"open_id": who}, "name": who}
                 for i, who in enumerate(mentions, 1)]  # fmt: skip
    return {
        "schema": "2.0",
        "header": {"event_id": f"ev_{message_id}", "event_type": "im.message.receive_v1",
                   "create_time": str(created_ms), "app_id": "cli_1"},
        "event": {
            "sender": {"sender_id": {"open_id": sender}, "sender_type": sender_type},
            "message": {"message_id": message_id, "chat_id": chat, "chat_type": chat_type,
                        "message_type": message_type, "content": content,
                        "create_time": str(created_ms), "mentions": mentioned},
        },
    }  # fmt: skip


class Chat:
    """Records what the bot would have answered and what reached the handler."""

    def __init__(self) -> None:
        self.replies: list[tuple[str, str]] = []
        self.handled: list[str] = []

    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None:
        self.replies.append((event.message_id, text))

    async def handle(self, event: FeishuMessageEvent) -> None:
        self.handled.append(event.text or "")


def _dispatcher(tmp_path: Path, chat: Chat, **policy: Any) -> tuple[Dispatcher, Path]:
    audit = tmp_path / "audit.jsonl"
    allowed = policy.pop("allowed", {"ou_alice"})
    dispatcher = Dispatcher(
        policy=InboundPolicy(
            app_name="main", allows=lambda who: who in allowed, started_at_ms=STARTED_MS,
            **policy,
        ),
        seen=SeenMessages(),
        audit=AuditLog(audit),
        replier=chat,
        handle=chat.handle,
    )
    return dispatcher, audit


def _audit(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [(r["kind"], r["detail"]) for r in map(json.loads, path.read_text().splitlines())]


async def test_allowed_text_reaches_the_handler_once_even_when_redelivered(tmp_path: Path) -> None:
    chat = Chat()
    dispatcher, audit = _dispatcher(tmp_path, chat)

    await dispatcher.accept(event("om_1", "hi @_user_1 there"))
    await dispatcher.accept(event("om_1", "hi @_user_1 there"))

    await wait_until(lambda: chat.handled, what="the message to be handled")
    await dispatcher.stop()
    assert chat.handled == ["hi there"]
    assert _audit(audit) == [("inbound", "hi there")]


async def test_a_sender_not_on_the_list_gets_nothing_and_is_audited(tmp_path: Path) -> None:
    chat = Chat()
    dispatcher, audit = _dispatcher(tmp_path, chat)

    await dispatcher.accept(event("om_2", "let me in", sender="ou_mallory"))
    await dispatcher.stop()

    assert (chat.handled, chat.replies) == ([], [])
    assert _audit(audit) == [("refusal", "sender is not on allowed_users")]


async def test_an_empty_allowlist_lets_nobody_in(tmp_path: Path) -> None:
    chat = Chat()
    dispatcher, audit = _dispatcher(tmp_path, chat, allowed=set())

    await dispatcher.accept(event("om_3"))
    await dispatcher.stop()

    assert chat.handled == []
    assert _audit(audit)[0][0] == "refusal"


async def test_bots_including_ourselves_are_ignored(tmp_path: Path) -> None:
    chat = Chat()
    dispatcher, audit = _dispatcher(tmp_path, chat)

    await dispatcher.accept(event("om_4", sender_type="app"))
    await dispatcher.stop()

    assert (chat.handled, chat.replies, _audit(audit)) == ([], [], [])


async def test_a_message_from_before_start_is_not_acted_on_and_the_user_is_told(
    tmp_path: Path,
) -> None:
    chat = Chat()
    dispatcher, _ = _dispatcher(tmp_path, chat)

    await dispatcher.accept(event("om_5", "rm it all", created_ms=STARTED_MS - 60_000))
    await dispatcher.stop()

    assert chat.handled == []
    assert len(chat.replies) == 1
    assert "arrived while cclark was not running" in chat.replies[0][1]


async def test_a_sticker_gets_a_polite_answer_and_a_photo_is_handled(tmp_path: Path) -> None:
    chat = Chat()
    dispatcher, _ = _dispatcher(tmp_path, chat)

    await dispatcher.accept(event("om_6", None, message_type="sticker"))
    await dispatcher.accept(event("om_7", None, message_type="image"))
    await wait_until(lambda: chat.handled, what="the photo to be handled")
    await dispatcher.stop()

    assert chat.handled == [""]  # the photo: no text, one attachment
    assert chat.replies == [("om_6", NOT_TEXT)]
    assert NOT_TEXT.startswith("I can read text, rich text, photos and files, not this kind")


async def test_one_chat_stays_in_order_while_another_is_not_held_up(tmp_path: Path) -> None:
    release = asyncio.Event()
    order: list[str] = []

    class SlowChat(Chat):
        async def handle(self, event: FeishuMessageEvent) -> None:
            if event.chat_id == "oc_slow" and event.text == "first":
                await release.wait()
            order.append(f"{event.chat_id}:{event.text}")

    chat = SlowChat()
    dispatcher, _ = _dispatcher(tmp_path, chat)

    await dispatcher.accept(event("om_a", "first", chat="oc_slow"))
    await dispatcher.accept(event("om_b", "second", chat="oc_slow"))
    await dispatcher.accept(event("om_c", "other", chat="oc_fast"))
    await wait_until(lambda: "oc_fast:other" in order, what="the other chat")
    release.set()
    await wait_until(lambda: len(order) == 3, what="the slow chat")
    await dispatcher.stop()

    assert order == ["oc_fast:other", "oc_slow:first", "oc_slow:second"]


BOT = "ou_the_bot"


async def bot_open_id() -> str:
    return BOT


async def feishu_cannot_say() -> str:
    raise FeishuApiError(code=None, msg="transport error")


async def _group_run(tmp_path: Path, *events: dict[str, Any], **policy: Any) -> tuple[Chat, Path]:
    chat = Chat()
    dispatcher, audit = _dispatcher(tmp_path, chat, **policy)
    for raw in events:
        await dispatcher.accept(raw)
    await dispatcher.accept(event("om_last", "last", chat="oc_other"))  # p2p: always heard
    await wait_until(lambda: "last" in chat.handled, what="the last message")
    await dispatcher.stop()
    return chat, audit


async def test_in_a_group_only_messages_that_mention_the_bot_are_acted_on(
    tmp_path: Path,
) -> None:
    chat, audit = await _group_run(
        tmp_path,
        event("om_1", "@_user_1 #help", chat_type="group", mentions=(BOT,)),
        event("om_2", "lunch?", chat_type="group"),
        event("om_3", "@_user_1 ask Bob", chat_type="group", mentions=("ou_bob",)),
        event("om_4", "@_user_1 @_user_2 both", chat_type="group", mentions=("ou_bob", BOT)),
        bot_open_id=bot_open_id,
    )

    assert chat.handled == ["#help", "both", "last"]
    assert [detail for kind, detail in _audit(audit) if kind == "inbound"] == [
        "#help", "both", "last"]  # the group's other talk is not the bot's to record


async def test_a_stranger_who_does_not_mention_the_bot_in_a_group_leaves_no_trace(
    tmp_path: Path,
) -> None:
    chat, audit = await _group_run(
        tmp_path,
        event("om_1", "hello all", chat_type="group", sender="ou_stranger"),
        event("om_2", "@_user_1 hi", chat_type="group", sender="ou_stranger", mentions=(BOT,)),
        bot_open_id=bot_open_id,
    )

    assert chat.handled == ["last"]
    assert [kind for kind, _ in _audit(audit)] == ["refusal", "inbound"]


async def test_an_app_set_to_take_every_group_message_acts_without_a_mention(
    tmp_path: Path,
) -> None:
    chat, _ = await _group_run(
        tmp_path,
        event("om_1", "run the tests", chat_type="group"),
        group_messages=GroupMessages.ALL,
        bot_open_id=bot_open_id,
    )

    assert chat.handled == ["run the tests", "last"]


async def test_when_feishu_cannot_say_who_the_bot_is_any_mention_counts(tmp_path: Path) -> None:
    chat, _ = await _group_run(
        tmp_path,
        event("om_1", "@_user_1 status", chat_type="group", mentions=("ou_someone",)),
        event("om_2", "no mention", chat_type="group"),
        bot_open_id=feishu_cannot_say,
    )

    assert chat.handled == ["status", "last"]
