"""The chat senders: a chat's items go out in order, once; what Feishu cannot take yet is tried
again, what it refuses for good is dropped; what was confirmed is recorded in state.db.

A real journal and outbox in front of a scripted Feishu surface (the bot-level behaviour, with
the real SDK and emulator, is in test_kill_and_restart.py and test_chat_isolation.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cclark.chat_senders import ChatSenders, SenderSettings, idempotency_key
from cclark.errors import FeishuApiError
from cclark.outbox import Outbox
from unified_icc import ChannelId, Journal

CHAT = ChannelId("feishu:main:oc_senders")


class Surface:
    """Feishu as the senders see it; failures are scripted per call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []  # (op, content, uuid)
        self.failures: list[Exception] = []

    async def send_card(
        self, channel_id: ChannelId, card: Mapping[str, Any], *, uuid: str | None = None
    ) -> str:
        self._call("create", json.dumps(card), uuid)
        return f"om_{len(self.calls)}"

    async def update_card(self, message_id: str, card: Mapping[str, Any]) -> None:
        self._call("patch", json.dumps(card), message_id)

    async def send_text(
        self, channel_id: ChannelId, text: str, *, uuid: str | None = None
    ) -> tuple[str, ...]:
        self._call("text", text, uuid)
        return (f"om_{len(self.calls)}",)

    def _call(self, op: str, content: str, key: str | None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.calls.append((op, content, key))


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    opened = Journal(tmp_path / "state.db")
    opened.open()
    yield opened
    await opened.close()


def _senders(journal: Journal, surface: Surface) -> tuple[Outbox, ChatSenders]:
    outbox = Outbox(journal)
    outbox.load(journal)
    settings = SenderSettings(card_updates_per_second=1000, retry_initial=0.01)
    return outbox, ChatSenders(app_name="main", outbox=outbox, journal=journal,
                               surface=surface, settings=settings)  # fmt: skip


async def test_items_go_out_in_order_and_a_card_is_created_once_then_patched_whole(
    journal: Journal,
) -> None:
    surface = Surface()
    outbox, senders = _senders(journal, surface)
    async with journal.unit():
        outbox.put_card("turn:t1:0", CHAT, {"n": 1})
        outbox.put_text("done:t1:1", CHAT, "✅ done")
    await senders.flush()
    async with journal.unit():
        outbox.put_card("turn:t1:0", CHAT, {"n": 2})
    await senders.flush()

    assert [(op, content) for op, content, _ in surface.calls] == [
        ("create", '{"n": 1}'), ("text", "✅ done"), ("patch", '{"n": 2}')
    ]
    assert surface.calls[0][2] == idempotency_key("main", "turn:t1:0")
    assert surface.calls[2][2] == "om_1"  # the patch names the card created first


async def test_a_request_feishu_could_not_take_is_sent_again_later_once(journal: Journal) -> None:
    surface = Surface()
    surface.failures = [FeishuApiError(code=None, msg="timed out"),
                        FeishuApiError(code=500, msg="busy", http_status=503)]  # fmt: skip
    outbox, senders = _senders(journal, surface)
    async with journal.unit():
        outbox.put_text("reply:1", CHAT, "hello")
    await senders.flush()

    assert surface.calls == [("text", "hello", idempotency_key("main", "reply:1"))]
    assert journal.rows("SELECT key FROM outbox") == []  # confirmed, so forgotten


async def test_a_refused_item_is_dropped_and_the_next_one_still_goes(journal: Journal) -> None:
    surface = Surface()
    surface.failures = [FeishuApiError(code=230002, msg="bot not in chat", http_status=400)]
    outbox, senders = _senders(journal, surface)
    async with journal.unit():
        outbox.put_text("reply:1", CHAT, "refused")
        outbox.put_text("reply:2", CHAT, "accepted")
    await senders.flush()

    assert [content for _, content, _ in surface.calls] == ["accepted"]


async def test_what_was_not_confirmed_before_a_stop_is_sent_after_the_restart(
    journal: Journal,
) -> None:
    surface = Surface()
    surface.failures = [FeishuApiError(code=None, msg="timed out")] * 50
    outbox, senders = _senders(journal, surface)
    async with journal.unit():
        outbox.put_card("turn:t1:0", CHAT, {"n": 1})
    await senders.stop()  # Feishu never answered: the card waits in state.db

    surface.failures = []
    restarted_outbox, restarted = _senders(journal, surface)
    restarted.start()
    await restarted.flush()

    assert [(op, content) for op, content, _ in surface.calls] == [("create", '{"n": 1}')]
    assert restarted_outbox.message_id("turn:t1:0") == "om_1"
