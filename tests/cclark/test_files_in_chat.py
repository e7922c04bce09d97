"""Photos and files sent to a chat reach its agent: the real bot, the emulator, fake Claude.

What a person sees and the agent gets: the bytes saved unchanged in the session's folder
under .unified-icc/inbox/ (which git ignores) with a safe name, the agent told ``@<path>`` and
the caption, a 👌 on the message; refusals (no session, too large) with their reason and a ❌.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from bot_process import ALICE, bot_with_window
from feishu_emulator import Emulator
from support import World, wait_until

pytestmark = pytest.mark.e2e

CHAT = "oc_files"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (5, 4), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _submitted(world: World, needle: str) -> str | None:
    return next((e["text"] for e in world.agent_entries("submit") if needle in e["text"]), None)


def _inbox(world: World) -> Path:
    return world.workspace / ".unified-icc" / "inbox"


async def test_photos_files_and_captions_reach_the_agent_and_the_rest_is_refused(
    world: World, emu: Emulator
) -> None:
    photo, report = _png(), b"line one\nline two\n"
    running = await bot_with_window(world, emu, "claude", CHAT, files={"max_receive_mb": 1})
    try:
        await emu.wait_connected(within=60)
        await wait_until(lambda: world.agent_entries("started"), what="the agent")
        posted = await emu.post_image(photo, chat_id=CHAT, sender_open_id=ALICE)
        told_photo = await wait_until(lambda: _submitted(world, "photo.png"), what="the photo")
        await emu.post_file(report, "../../My Report (final).txt", chat_id=CHAT,
                            sender_open_id=ALICE)  # fmt: skip
        told_file = await wait_until(lambda: _submitted(world, "My_Report"), what="the file")
        key = emu.store_image(photo)
        content = {"title": "", "content": [[{"tag": "text", "text": "What is in this picture?"}],
                                            [{"tag": "img", "image_key": key}]]}  # fmt: skip
        await emu.post_message("post", content, chat_id=CHAT, sender_open_id=ALICE)
        told_post = await wait_until(lambda: _submitted(world, "What is in this picture?"),
                                     what="the post")  # fmt: skip
        big = await _answer_to_file(emu, b"x" * (1024 * 1024 + 1), "big.log", CHAT)
        unbound = await _answer_to_file(emu, report, "notes.txt", "oc_no_session")
        receipts = [r.emoji_type for r in emu.reactions(posted.message.message_id)]
    finally:
        running.stop()
    # Saved as <date>-<time>-<name>; a second photo within the same second gets "-2".
    saved = sorted((re.sub(r"^\d{8}-\d{6}-|-2(?=\.png$)", "", path.name), path.read_bytes())
                   for path in _inbox(world).iterdir())  # fmt: skip
    assert saved == [("My_Report_final_.txt", report), ("photo.png", photo), ("photo.png", photo)]
    assert (world.workspace / ".unified-icc" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert re.fullmatch(r"@\.unified-icc/inbox/\d{8}-\d{6}-photo\.png \(sent to you from the "
                        r"chat\)", told_photo)  # fmt: skip
    assert re.fullmatch(r"@\.unified-icc/inbox/\d{8}-\d{6}-My_Report_final_\.txt \(sent to you "
                        r"from the chat\)", told_file)  # fmt: skip
    assert re.fullmatch(r"@\.unified-icc/inbox/\S+\.png What is in this picture\?", told_post)
    assert big == ("'big.log' is 1.0 MB: a chat can hand the agent files of up to 1 MB "
                   "(files.max_receive_mb in config.yaml).")  # fmt: skip
    assert unbound.startswith("This chat has no agent session to give it to.")
    assert receipts == ["OK"]


async def _answer_to_file(emu: Emulator, data: bytes, name: str, chat: str) -> str:
    before = len(emu.sent)
    await emu.post_file(data, name, chat_id=chat, sender_open_id=ALICE)

    def answer() -> str | None:
        texts = (s.text for s in emu.sent[before:] if s.chat_id == chat and s.text)
        return next((t for t in texts if not t.startswith("✅ ")), None)  # not a turn's end

    found: str = await wait_until(answer, what=f"the answer to {name}")
    return found


async def test_a_file_for_a_shell_is_saved_and_nothing_is_typed_into_it(
    world: World, emu: Emulator
) -> None:
    running = await bot_with_window(world, emu, "shell", "oc_shell_files")
    try:
        await emu.wait_connected(within=60)
        await wait_until(lambda: world.agent_entries("started"), what="the shell")
        answer = await _answer_to_file(emu, b"a,b\n1,2\n", "data.csv", "oc_shell_files")
    finally:
        running.stop()

    (saved,) = _inbox(world).iterdir()
    assert saved.read_bytes() == b"a,b\n1,2\n"
    assert answer == (f"Saved in the session's folder: .unified-icc/inbox/{saved.name} "
                      "(a shell is not typed into).")  # fmt: skip
    assert world.agent_entries("submit") == []
