"""One chat never waits on another: Feishu hanging on chat A's requests leaves chat B's output
as quick as ever.

The real bot process (real lark-oapi SDK, Feishu emulator) drives two real bash windows, each
bound to its own chat; the emulator holds every request for chat A for 12 s.
"""

from __future__ import annotations

import time

import pytest

from bot_process import ALICE, Bot, card_with
from feishu_emulator import Emulator
from support import World
from unified_icc import ChannelId, UnifiedICC, load_config

pytestmark = pytest.mark.integration

SLOW, QUICK = "oc_slow_feishu", "oc_quick_feishu"


async def test_output_of_one_chat_arrives_while_feishu_hangs_on_another(
    world: World, emu: Emulator
) -> None:
    bot = Bot(world, emu)
    bot.write_config(real_shell=True)
    async with UnifiedICC(load_config()) as gateway:
        for chat in (SLOW, QUICK):
            folder = world.workspace / chat
            folder.mkdir()
            await gateway.create_window(folder, "shell",
                                        channel_id=ChannelId(f"feishu:main:{chat}"))  # fmt: skip
    bot.start()
    try:
        await emu.wait_connected(within=60)
        emu.slow_chat(SLOW, 12)
        await emu.post_text("echo from-$((40+2))-slow", chat_id=SLOW, sender_open_id=ALICE)
        started = time.monotonic()
        await emu.post_text("echo from-$((40+2))-quick", chat_id=QUICK, sender_open_id=ALICE)
        await card_with(emu, QUICK, "from-42-quick", within=30)
        quick = time.monotonic() - started
        held = [m for m in emu.messages_in(SLOW) if m.msg_type == "interactive"]
    finally:
        emu.slow_chat(SLOW, 0)  # lets the held request go, so the bot stops at once
        bot.stop()

    assert held == []  # chat A's card is still in Feishu's slow hands
    assert quick < 6  # nowhere near the 12 s chat A's requests take
