"""The minimal handlers on a real gateway: #help, unknown commands, text to the bound agent."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from cclark.audit import AuditLog
from cclark.handlers import MessageHandler
from cclark.handlers.dispatch import Receipt
from cclark.handlers.message import FEEDBACK
from handler_kit import Replies, text_event
from support import World, wait_until
from unified_icc import ChannelId, PromptInfo, PromptKind, UnifiedICC, WindowId
from unified_icc.terminal import ScreenshotRenderer, ScreenshotStyle

pytestmark = pytest.mark.integration


class Answers:
    """The prompt cards' side of an answer: what the handler announced before sending it."""

    def __init__(self) -> None:
        self.announced: list[tuple[WindowId, int, str]] = []
        self.failed: list[WindowId] = []

    def answering(self, window_id: WindowId, prompt: PromptInfo, choice: int, by: str) -> None:
        self.announced.append((window_id, choice, by))

    def not_answered(self, window_id: WindowId) -> None:
        self.failed.append(window_id)


def _handler(
    gateway: UnifiedICC, tmp_path: Path, answers: Answers | None = None
) -> tuple[MessageHandler, Replies]:
    replies = Replies()
    audit = AuditLog(tmp_path / "audit.jsonl")
    prompts = answers or Answers()
    return MessageHandler(gateway=gateway, replier=replies, audit=audit, prompts=prompts), replies


async def test_help_answers_and_unknown_commands_point_to_help(
    gateway: UnifiedICC, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    await handler.handle(text_event("#help"))
    await handler.handle(text_event("#frobnicate now"))

    assert replies.sent[0].startswith("cclark drives AI coding agents")
    assert replies.sent[1] == "Unknown command #frobnicate. Send #help for the commands there are."


async def test_text_without_a_bound_window_gets_guidance_and_creates_nothing(
    gateway: UnifiedICC, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    await handler.handle(text_event("please fix the bug"))

    assert replies.sent == ["This chat has no agent session. Send #new to start one, or #help."]
    assert gateway.windows() == ()


async def test_text_goes_to_the_chats_bound_agent(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)
    event = text_event("run the tests; then $(report)")
    await gateway.create_window(world.workspace, "shell", channel_id=event.channel_id)
    await wait_until(lambda: world.agent_entries("started"), what="the agent")

    await handler.handle(event)

    submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    assert submitted[0]["text"] == "run the tests; then $(report)"
    assert replies.sent == []
    assert replies.receipts == [(event.message_id, Receipt.TYPED)]
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["kind"] == "keystrokes"


def test_a_p2p_message_is_on_the_chat_channel() -> None:
    assert ChannelId("feishu:main:oc_1") == text_event("x").channel_id


async def _say(handler: MessageHandler, replies: Replies, *texts: str, chat: str = "oc_1") -> str:
    for text in texts:
        await handler.handle(text_event(text, chat))
    return replies.sent[-1]


async def test_new_wizard_mkdir_ok_shell_starts_a_window_in_the_new_folder(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    last = await _say(handler, replies, "#new", "#mkdir demo", "ok", "shell")

    assert last.startswith("Session started: shell in ")
    (window,) = gateway.windows()
    assert window.cwd == (world.workspace / "demo").resolve()
    assert gateway.channel_router.resolve_window(text_event("x").channel_id) == window.window_id


async def test_new_twice_closes_the_first_window_and_leaves_others_alone(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)
    other = await gateway.create_window(world.workspace, "shell",
                                        channel_id=ChannelId("feishu:main:oc_other"))  # fmt: skip
    await _say(handler, replies, "#new", "ok", "shell")
    first = gateway.channel_router.resolve_window(text_event("x").channel_id)

    answer = await _say(handler, replies, "#new")

    assert f"Closed this chat's previous session ({first})" in answer
    assert [w.window_id for w in gateway.windows()] == [other.window_id]


async def test_a_chat_cannot_close_another_chats_window(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)
    theirs = await gateway.create_window(world.workspace, "shell",
                                         channel_id=ChannelId("feishu:main:oc_theirs"))  # fmt: skip

    listing = await _say(handler, replies, "#session list")
    closing = await _say(handler, replies, "#session close 1")

    assert listing == "This chat has no sessions. Send #new to start one."
    assert closing.startswith("There is no session 1")
    assert [w.window_id for w in gateway.windows()] == [theirs.window_id]


async def _claude_asking(
    gateway: UnifiedICC, world: World, handler: MessageHandler, replies: Replies
) -> WindowId:
    """#new → claude in the workspace, asked to run a command: its permission prompt waits."""
    await _say(handler, replies, "#new", "ok", "claude", "standard")
    await wait_until(lambda: world.agent_entries("started"), what="the agent")
    window = gateway.channel_router.resolve_window(text_event("x").channel_id)
    assert window is not None
    await handler.handle(text_event("ASK: touch chosen.txt"))
    await wait_until(lambda: gateway.status_of(window)[1], what="the prompt")
    return window


async def test_numbered_replies_answer_the_prompt_and_bad_numbers_list_the_valid_ones(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    answers = Answers()
    handler, replies = _handler(gateway, tmp_path, answers)
    window = await _claude_asking(gateway, world, handler, replies)

    wrong = await _say(handler, replies, "9")
    await handler.handle(text_event("1"))

    assert wrong == "option 9 is not on screen; reply with one of 1, 2, 3"
    assert replies.sent[-1] == wrong  # the card shows the choice; no extra message
    assert answers.announced == [(window, 9, "You"), (window, 1, "You")]
    assert answers.failed == [window]
    await wait_until(lambda: (world.workspace / "chosen.txt").exists(), what="the file")


async def test_a_plan_option_asking_for_feedback_sends_the_next_message_as_the_feedback(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)
    await _say(handler, replies, "#new", "ok", "claude", "standard")
    await wait_until(lambda: world.agent_entries("started"), what="the agent")
    window = gateway.channel_router.resolve_window(text_event("x").channel_id)
    assert window is not None
    await handler.handle(text_event("PLAN: rewrite everything"))
    prompt = await wait_until(lambda: gateway.status_of(window)[1], what="the plan prompt")

    told = await _say(handler, replies, "3")
    await handler.handle(text_event("smaller steps please"))

    assert prompt.kind is PromptKind.PLAN
    assert told == FEEDBACK.format(choice=3, label="No, keep planning")
    assert [e["choice"] for e in world.agent_entries("plan")] == ["3"]
    submitted = await wait_until(lambda: world.agent_entries("submit")[1:], what="the feedback")
    assert submitted[-1]["text"] == "smaller steps please"


async def test_status_and_verbose(gateway: UnifiedICC, world: World, tmp_path: Path) -> None:
    handler, replies = _handler(gateway, tmp_path)
    await _say(handler, replies, "#new", "ok", "shell")

    verbose = await _say(handler, replies, "#verbose on")
    status = await _say(handler, replies, "#status")
    wrong = await _say(handler, replies, "#verbose loud")

    assert verbose == "Verbose is on."
    assert "Window @1: shell in " in status
    assert "Mode: standard" in status
    assert "Verbose: on" in status
    assert wrong.startswith("Send #verbose on")


async def test_screenshot_full_sends_the_whole_pane_and_plain_screenshot_the_part_in_use(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)
    await _say(handler, replies, "#new", "ok", "shell")
    await wait_until(lambda: world.agent_entries("started"), what="the agent")

    await handler.handle(text_event("#screenshot full"))
    await handler.handle(text_event("#screenshot"))
    await handler.handle(text_event("#screenshot everything"))

    full, cropped = (Image.open(io.BytesIO(png)) for png in replies.images)
    cell, pad = ScreenshotRenderer().cell, ScreenshotStyle().padding
    assert full.size == (200 * cell.width + 2 * pad, 50 * cell.height + 2 * pad)
    colours = full.convert("RGB").getcolors(maxcolors=1 << 24) or []
    assert len(colours) > 2  # not blank: the agent's coloured greeting was drawn
    assert cropped.size[0] < full.size[0] / 2
    assert cropped.size[1] < full.size[1] / 2
    assert replies.sent[-1].startswith("Send #screenshot (the part of the screen in use)")


@pytest.mark.parametrize("text", ["²", "①", "5" * 5000])
async def test_digits_that_are_not_ascii_or_too_long_are_text_not_a_choice(
    gateway: UnifiedICC, tmp_path: Path, text: str
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    await handler.handle(text_event(text))
    await handler.handle(text_event(f"#session switch {text}"))

    assert replies.sent == [
        "This chat has no agent session. Send #new to start one, or #help.",
        "Send #session list, #session switch <n> or #session close <n>.",
    ]


async def test_odd_numbers_while_a_prompt_waits_get_the_valid_options(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    answers = Answers()
    handler, replies = _handler(gateway, tmp_path, answers)
    window = await _claude_asking(gateway, world, handler, replies)

    huge = await _say(handler, replies, "5" * 5000)
    superscript = await _say(handler, replies, "²")

    assert huge == "'555555555555…' is not an option on the screen; reply with one of 1, 2, 3"
    assert superscript == (f"Not sent: the agent in window {window} is waiting for an answer to "
                           "the prompt on its screen; answer it with a number first")  # fmt: skip
    assert answers.announced == []
    assert gateway.status_of(window)[1] is not None  # still waiting, nothing was pressed
    assert replies.receipts[-1] == ("om_²", Receipt.NOT_TYPED)


async def test_a_20000_character_reply_to_the_wizard_is_answered_and_the_wizard_goes_on(
    gateway: UnifiedICC, world: World, tmp_path: Path
) -> None:
    handler, replies = _handler(gateway, tmp_path)

    long = await _say(handler, replies, "#new", "q" * 20_000)
    long_select = await _say(handler, replies, "#select " + "r" * 300)
    onwards = await _say(handler, replies, "ok")

    assert long.startswith(f"'{'q' * 60}…' is not a folder here. Reply with a number")
    assert long_select == (f"Cannot select '{'r' * 60}…': a folder name in it is longer than "
                           "255 bytes.")  # fmt: skip
    assert onwards.startswith(f"Which agent in {world.workspace.resolve()}?")
    assert sorted(world.workspace.iterdir()) == []
