"""cclark as a user meets it: the real bot process, the real lark-oapi SDK, the Feishu emulator,
a real gateway on a private tmux server, and a scripted agent.

The bot runs as ``python -m cclark`` (the SDK allows one WebSocket client per process); the
real Claude CLI's chat is in test_chat_with_real_claude.py.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image

from bot_process import ALICE, MALLORY, Bot, bot_with_window, card_with, next_text, reply_to
from chat_view import card_text
from feishu_emulator import App, ChatType, ClientConfig, Emulator, RefuseMode, Sent
from support import World, wait_until
from unified_icc.terminal import ScreenshotRenderer, ScreenshotStyle

pytestmark = pytest.mark.e2e

async def test_help_from_an_allowed_user_is_answered_and_acked_fast(
    bot: Bot, emu: Emulator
) -> None:
    posted = await emu.post_text("#help", chat_id="oc_e2e", sender_open_id=ALICE)

    ack = await emu.wait_for_ack(posted.event_id)
    sent = await emu.wait_for_sent(1, chat_id="oc_e2e", within=30)
    assert sent[0].text.startswith("cclark drives AI coding agents")
    assert ack.code == 200
    assert ack.latency < 1.0
    status, body = await bot.health()
    assert (status, body["feishu"]["connected"], body["tmux"]["ok"]) == (200, True, True)


async def test_the_same_event_delivered_twice_is_handled_once(bot: Bot, emu: Emulator) -> None:
    posted = await emu.post_text("#help", chat_id="oc_twice", sender_open_id=ALICE)
    await emu.wait_for_sent(1, chat_id="oc_twice", within=30)

    await emu.redeliver(posted.event_id)
    await emu.wait_for_acks(posted.event_id, 2)
    await emu.post_text("#nope", chat_id="oc_twice", sender_open_id=ALICE)
    sent = await emu.wait_for_sent(2, chat_id="oc_twice", within=30)

    assert [s.text.split()[0] for s in sent] == ["cclark", "Unknown"]


async def test_a_sender_not_on_the_list_gets_nothing_and_is_audited(
    bot: Bot, emu: Emulator
) -> None:
    posted = await emu.post_text("#help", chat_id="oc_intruder", sender_open_id=MALLORY)
    await emu.wait_for_ack(posted.event_id)
    await wait_until(lambda: [a for a in bot.audit() if a["kind"] == "refusal"], what="audit")

    assert [s for s in emu.sent if s.chat_id == "oc_intruder"] == []
    refusal = next(a for a in bot.audit() if a["kind"] == "refusal")
    assert refusal["user"] == MALLORY


async def test_a_message_from_before_the_bot_started_is_not_acted_on_and_the_user_is_told(
    bot: Bot, emu: Emulator
) -> None:
    an_hour_ago = int((time.time() - 3600) * 1000)

    text = await reply_to(emu, "#help", chat="oc_old", create_time=an_hour_ago)

    assert "arrived while cclark was not running" in text
    assert "#help" in text


async def test_a_sticker_gets_a_polite_answer_and_a_photo_without_a_session_says_so(
    bot: Bot, emu: Emulator
) -> None:
    before = len(emu.sent)
    await emu.post_message("sticker", {"file_key": "file_v2_x"}, chat_id="oc_pic",
                           sender_open_id=ALICE)  # fmt: skip
    sticker = await emu.wait_for_sent(before + 1, within=30)
    await emu.post_image(b"\x89PNG\r\n\x1a\n", chat_id="oc_pic", sender_open_id=ALICE)
    photo = await emu.wait_for_sent(before + 2, within=30)

    assert sticker[-1].text.startswith("I can read text, rich text, photos and files, not this")
    assert photo[-1].text.startswith("This chat has no agent session to give it to.")


async def test_a_server_closed_socket_is_reconnected_and_the_next_message_handled(
    bot: Bot, emu: Emulator
) -> None:
    await emu.close_connections()
    await emu.wait_connected(count=2, within=60)

    assert (await reply_to(emu, "#help", chat="oc_after")).startswith("cclark drives")


async def test_an_endpoint_refusing_for_a_while_then_recovering_is_reconnected(
    bot: Bot, emu: Emulator
) -> None:
    emu.refuse_ws_endpoint(RefuseMode.HTTP_503, seconds=3)
    await emu.close_connections()
    await emu.wait_connected(count=2, within=60)

    assert (await reply_to(emu, "#help", chat="oc_refused")).startswith("cclark drives")


async def test_a_reconnect_the_sdk_gives_up_on_is_restarted_by_the_watchdog(
    bot: Bot, emu: Emulator
) -> None:
    # The SDK treats "connection limit exceeded" as fatal: its reconnect task dies silently.
    emu.refuse_ws_endpoint(RefuseMode.EXCEED_CONN_LIMIT, seconds=2)
    await emu.close_connections()
    await emu.wait_connected(count=2, within=60)

    assert (await reply_to(emu, "#help", chat="oc_watchdog")).startswith("cclark drives")
    status, body = await bot.health()
    assert status == 200
    assert body["feishu"]["reconnects"] >= 1
    assert "starting a fresh client" in bot.log.read_text()


async def test_rate_limits_5xx_and_a_revoked_token_are_retried_and_nothing_doubles(
    bot: Bot, emu: Emulator
) -> None:
    emu.fail_next(2, status=503)
    assert (await reply_to(emu, "#help", chat="oc_flaky")).startswith("cclark drives")
    emu.rate_limit_chat("oc_flaky", times=2)
    assert (await reply_to(emu, "#help", chat="oc_flaky")).startswith("cclark drives")
    emu.invalidate_tokens()
    assert (await reply_to(emu, "#help", chat="oc_flaky")).startswith("cclark drives")

    assert len([s for s in emu.sent if s.chat_id == "oc_flaky"]) == 3


async def test_an_event_in_two_parts_is_handled(bot: Bot, emu: Emulator) -> None:
    assert (await reply_to(emu, "#help", chat="oc_parts", parts=2)).startswith("cclark drives")


async def test_a_slow_gateway_call_does_not_delay_the_ack(world: World, emu: Emulator) -> None:
    running = await bot_with_window(world, emu, "codex", "oc_slow")
    try:
        await emu.wait_connected(within=60)
        posted = await emu.post_text("take your time", chat_id="oc_slow", sender_open_id=ALICE)
        ack = await emu.wait_for_ack(posted.event_id)
        submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    finally:
        running.stop()
    assert ack.latency < 1.0
    assert submitted[0]["text"] == "take your time"


async def test_text_reaches_the_bound_agent_and_its_reply_comes_back(
    world: World, emu: Emulator
) -> None:
    running = await bot_with_window(world, emu, "claude", "oc_agent")
    try:
        await emu.wait_connected(within=60)
        posted = await emu.post_text("please say hi", chat_id="oc_agent", sender_open_id=ALICE)
        ack = await emu.wait_for_ack(posted.event_id)
        card = await card_with(emu, "oc_agent", "FAKE-REPLY: you said 'please say hi'", within=30)
        notice = await next_text(emu, 0, "✅", within=30)
        assert posted.message is not None
        message_id = posted.message.message_id
        receipts = await wait_until(lambda: emu.reactions(message_id), what="the receipt")
    finally:
        running.stop()
    assert [r.emoji_type for r in receipts] == ["OK"]
    assert card_text(card.body()).startswith("claude · workspace")
    assert notice == "✅ claude · workspace: FAKE-REPLY: you said 'please say hi'"
    assert ack.latency < 1.0
    assert [s["text"] for s in world.agent_entries("submit")] == ["please say hi"]


async def test_screenshot_full_arrives_as_an_image_of_the_whole_pane(
    world: World, emu: Emulator
) -> None:
    running = await bot_with_window(world, emu, "shell", "oc_shot")
    try:
        await emu.wait_connected(within=60)
        await emu.post_text("#screenshot full", chat_id="oc_shot", sender_open_id=ALICE)
        # The agent's own greeting may come first (as its turn's card or text).
        sent = await wait_until(lambda: next((s for s in emu.sent if s.chat_id == "oc_shot"
                                              and s.msg_type == "image"), None),
                                what="the screenshot")  # fmt: skip
    finally:
        running.stop()
    png = emu.image(sent.body()["image_key"])
    assert png is not None
    image = Image.open(io.BytesIO(png))
    cell, pad = ScreenshotRenderer().cell, ScreenshotStyle().padding
    assert image.size == (200 * cell.width + 2 * pad, 50 * cell.height + 2 * pad)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 2


async def test_the_wizard_refuses_every_way_out_of_the_workspace_with_the_reason(
    bot: Bot, emu: Emulator, world: World
) -> None:
    root = world.workspace.resolve()
    (world.workspace / "taken").mkdir()
    (world.workspace / "escape").symlink_to("/etc")
    chat = "oc_wizard"

    opened = await reply_to(emu, "#new", chat=chat)
    refused = ("..", "#select /etc", "#mkdir ../x", "#mkdir taken", "escape")
    answers = [await reply_to(emu, text, chat=chat) for text in refused]
    cancelled = await reply_to(emu, "#cancel", chat=chat)

    assert f"Folder: {root}" in opened
    assert answers[0] == f"{root} is a workspace root: you cannot go above it."
    assert answers[1] == "/etc is outside the workspace folders: that is not allowed."
    assert answers[2].startswith("Cannot create '../x': ")
    assert answers[3] == "'taken' already exists here: enter it by name, or pick another name."
    assert answers[4].endswith("escape is outside the workspace folders: that is not allowed.")
    assert "cancel" in cancelled.lower()
    assert not (world.workspace.parent / "x").exists()


async def test_new_twice_replaces_only_this_chats_window_and_another_chats_cannot_be_closed(
    bot: Bot, emu: Emulator, world: World
) -> None:
    async def start_shell(chat: str) -> str:
        for step in ("#new", "ok"):
            await reply_to(emu, step, chat=chat)
        started = re.search(r"window (@\d+)\.", await reply_to(emu, "shell", chat=chat))
        assert started is not None
        return started[1]

    their_window = await start_shell("oc_theirs")
    first_window = await start_shell("oc_mine")
    again = await reply_to(emu, "#new", chat="oc_mine")
    listing = await reply_to(emu, "#session list", chat="oc_mine")
    closing = await reply_to(emu, "#session close 1", chat="oc_mine")

    assert f"Closed this chat's previous session ({first_window})" in again
    assert listing == "This chat has no sessions. Send #new to start one."
    assert closing.startswith("There is no session 1")
    windows = world.tmux("list-windows", "-a", "-F", "#{window_id}").stdout.split()
    assert their_window in windows
    assert first_window not in windows


async def test_in_a_group_the_bot_acts_only_on_messages_that_mention_it(
    world: World, loopback: None
) -> None:
    app = App(receives_all_group_messages=True)  # Feishu delivers every group message
    async with Emulator(apps=[app], client_config=ClientConfig.fast()) as emu:
        bot = Bot(world, emu)
        bot.write_config()
        bot.start()
        try:
            await emu.wait_connected(within=60)
            chatter = await emu.post_text("#help", chat_id="oc_team", chat_type=ChatType.GROUP,
                                          sender_open_id=ALICE)  # fmt: skip
            await emu.wait_for_ack(chatter.event_id)  # the bot got it, and let it be
            await emu.post_text("#help", chat_id="oc_team", chat_type=ChatType.GROUP,
                                sender_open_id=ALICE, mention_bot=True)  # fmt: skip
            answers = await emu.wait_for_sent(1, chat_id="oc_team", within=30)
        finally:
            bot.stop()

    # Per chat, messages are handled in order: had the first been acted on, it would have
    # been answered first.
    assert [a.text[:21] for a in answers] == ["cclark drives AI codi"]
    inbound = [a["detail"] for a in bot.audit() if a["kind"] == "inbound"]
    assert inbound == ["#help"]


async def test_a_rich_text_post_reaches_the_agent_as_its_text_and_commands_work_from_one(
    world: World, emu: Emulator
) -> None:
    paragraph = [{"tag": "text", "text": "Fix "},
                 {"tag": "a", "text": "the bug", "href": "https://example.com/7"},
                 {"tag": "text", "text": " please."}]  # fmt: skip
    code = [{"tag": "code_block", "language": "PYTHON", "text": "print('hi')\n"}]
    running = await bot_with_window(world, emu, "shell", "oc_post")
    try:
        await emu.wait_connected(within=60)
        await emu.post_message("post", {"title": "", "content": [paragraph, code]},
                               chat_id="oc_post", sender_open_id=ALICE)  # fmt: skip
        submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
        before = len(emu.sent)
        await emu.post_message("post", {"title": "", "content": [[{"tag": "text",
                                                                   "text": "#status"}]]},
                               chat_id="oc_post", sender_open_id=ALICE)  # fmt: skip
        status = await next_text(emu, before, "Window", within=30)
    finally:
        running.stop()
    assert submitted[0]["text"] == (
        "Fix [the bug](https://example.com/7) please.\n```python\nprint('hi')\n```"
    )
    assert status.startswith("Window @")


async def test_get_sends_a_file_of_the_session_and_refuses_what_it_must(
    world: World, emu: Emulator
) -> None:
    data = bytes(range(256)) * 40
    (world.workspace / "out").mkdir()
    (world.workspace / "out" / "result.bin").write_bytes(data)
    (world.workspace / "shot.png").write_bytes(_png())
    (world.workspace / ".env").write_text("TOKEN=x\n")
    outside = world.root / "outside.txt"
    outside.write_text("not for the chat\n")
    (world.workspace / "link").symlink_to(outside)
    with (world.workspace / "huge.log").open("wb") as huge:
        huge.truncate(31 * 1024 * 1024)  # sparse: 31 MB that take no disk
    running = await bot_with_window(world, emu, "shell", "oc_get")
    try:
        await emu.wait_connected(within=60)
        await emu.post_text("#get out/result.bin", chat_id="oc_get", sender_open_id=ALICE)
        await emu.post_text("#get shot.png", chat_id="oc_get", sender_open_id=ALICE)
        # The shell's own greeting may come back too (a turn card, its notice): skip it.

        def both() -> list[Sent] | None:
            found = [s for s in emu.sent if s.chat_id == "oc_get" and s.msg_type in
                     ("file", "image")]  # fmt: skip
            return found if len(found) >= 2 else None

        sent = await wait_until(both, within=30, what="the file and the image")
        asked = ("../../etc/passwd", "link", ".env", "huge.log", "nothing")
        refusals = [await reply_to(emu, f"#get {path}", chat="oc_get") for path in asked]
    finally:
        running.stop()
    file_message, image_message = sent[:2]
    assert file_message.msg_type == "file"
    stored = emu.file(file_message.body()["file_key"])
    assert (stored.file_name, stored.data) == ("result.bin", data)
    assert image_message.msg_type == "image"
    assert emu.image(image_message.body()["image_key"]) == _png()
    assert refusals[0] == "'../../etc/passwd' is outside the workspace folders: not sent."
    assert refusals[1] == f"'link' is a link to {outside}, outside the workspace folders: not sent."
    assert refusals[2].startswith("'.env' looks like a secret (it matches .env)")
    assert refusals[3].startswith("'huge.log' is 31.0 MB: Feishu takes files up to 30 MB")
    assert refusals[4].startswith("There is no file 'nothing' in ")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()
