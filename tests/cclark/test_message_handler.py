"""The minimal handlers on a real gateway: #help, unknown commands, text to the bound agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cclark.audit import AuditLog
from cclark.event_parsers import FeishuMessageEvent, parse_message_event
from cclark.handlers import MessageHandler, render_messages
from support import World, wait_until
from unified_icc import AgentMessage, ChannelId, MessageKind, MessageRole, UnifiedICC

pytestmark = pytest.mark.integration


class Replies:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def reply_text(self, event: FeishuMessageEvent, text: str) -> None:
        self.sent.append(text)


def _event(text: str, chat: str = "oc_1") -> FeishuMessageEvent:
    raw = {
        "schema": "2.0",
        "header": {"event_id": "ev", "event_type": "im.message.receive_v1",
                   "create_time": "1", "app_id": "cli_1"},
        "event": {"sender": {"sender_id": {"open_id": "ou_a"}, "sender_type": "user"},
                  "message": {"message_id": f"om_{text}", "chat_id": chat, "chat_type": "p2p",
                              "message_type": "text", "content": json.dumps({"text": text}),
                              "create_time": "1"}},
    }  # fmt: skip
    parsed = parse_message_event("main", raw)
    assert parsed is not None
    return parsed


def _handler(gateway: UnifiedICC, tmp_path: Path) -> tuple[MessageHandler, Replies]:
    replies = Replies()
    audit = AuditLog(tmp_path / "audit.jsonl")
    return MessageHandler(gateway=gateway, replier=replies, audit=audit), replies


async def test_help_answers_and_unknown_commands_point_to_help(
    gateway: UnifiedICC, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    await handler.handle(_event("#help"))
    await handler.handle(_event("#frobnicate now"))

    assert replies.sent[0].startswith("cclark drives AI coding agents")
    assert replies.sent[1] == "Unknown command #frobnicate. Send #help for the commands there are."


async def test_text_without_a_bound_window_gets_guidance_and_creates_nothing(
    gateway: UnifiedICC, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    await handler.handle(_event("please fix the bug"))

    assert replies.sent == ["This chat has no agent session. Send #help to see how to start one."]
    assert gateway.windows() == ()


async def test_text_goes_to_the_chats_bound_agent(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)
    event = _event("run the tests; then $(report)")
    await gateway.create_window(world.workspace, "shell", channel_id=event.channel_id)
    await wait_until(lambda: world.agent_entries("started"), what="the agent")

    await handler.handle(event)

    submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    assert submitted[0]["text"] == "run the tests; then $(report)"
    assert replies.sent == []
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["kind"] == "keystrokes"


def test_render_shows_the_agents_side_only() -> None:
    messages = [
        AgentMessage(id="1", role=MessageRole.USER, kind=MessageKind.TEXT, text="do it"),
        AgentMessage(id="2", role=MessageRole.ASSISTANT, kind=MessageKind.TEXT, text="On it."),
        AgentMessage(id="3", role=MessageRole.ASSISTANT, kind=MessageKind.TOOL_USE,
                     text="Bash: touch x", tool_name="Bash", tool_id="t1"),
        AgentMessage(id="4", role=MessageRole.ASSISTANT, kind=MessageKind.TOOL_RESULT,
                     text="(no output)\nmore", tool_id="t1"),
    ]  # fmt: skip

    assert render_messages(messages) == "On it.\n\n▸ Bash: touch x\n\n  ↳ (no output)"
    assert ChannelId("feishu:main:oc_1") == _event("x").channel_id
