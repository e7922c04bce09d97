"""Nothing lost, nothing doubled: the real bot SIGKILLed at many moments of an agent's output.

The bot runs as ``python -m cclark`` (real lark-oapi SDK, Feishu emulator, a real bash in a
private tmux server). A loop prints 60 numbered lines, each released by the test through a
gate file, so the kills land while lines are being delivered: after each restart a few lines
are released and the bot is killed at a random moment among them. At the end every line must
be in the chat's cards exactly once, also when Feishu fails one request in ten.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from bot_process import ALICE, Bot, card_with
from chat_view import card_text
from feishu_emulator import Emulator
from support import World, wait_until
from unified_icc import ChannelId, UnifiedICC, load_config

pytestmark = pytest.mark.integration

CHAT = "oc_kill"
LINES = 60
KILLS = 10
_LINE = re.compile(r"\bline-(\d+)\b")


def _loop(gates: Path) -> str:
    wait = f"until [ -e {gates}/g$i ]; do sleep 0.02; done"
    return f"for i in $(seq 1 {LINES}); do {wait}; echo line-$i; done; echo loop-finished"


def _counts(emu: Emulator) -> Counter[int]:
    shown = "\n".join(card_text(m.body()) for m in emu.messages_in(CHAT)
                      if m.msg_type == "interactive")  # fmt: skip
    return Counter(int(n) for n in _LINE.findall(shown))


async def _open_gates(gates: Path, numbers: range, rng: random.Random) -> None:
    for number in numbers:
        (gates / f"g{number}").touch()
        await asyncio.sleep(rng.uniform(0.0, 0.06))


@pytest.mark.parametrize("failing", [0.0, 0.1], ids=["feishu-ok", "feishu-fails-10pc"])
async def test_every_line_shows_exactly_once_however_often_the_bot_is_killed(
    world: World, emu: Emulator, failing: float
) -> None:
    rng = random.Random(20261201 + int(failing * 100))
    gates = world.workspace / "gates"
    gates.mkdir()
    bot = Bot(world, emu)
    bot.write_config(real_shell=True)
    async with UnifiedICC(load_config()) as gateway:
        await gateway.create_window(world.workspace, "shell",
                                    channel_id=ChannelId(f"feishu:main:{CHAT}"))  # fmt: skip
    emu.fail_ratio(failing, seed=7)
    bot.start()
    try:
        await emu.wait_connected(within=60)
        await emu.post_text(_loop(gates), chat_id=CHAT, sender_open_id=ALICE)
        # Typed at most once, by design: a kill before typing would lose the loop, not the lines.
        await card_with(emu, CHAT, f"seq 1 {LINES}", within=60)
        per_round = LINES // KILLS
        for round_ in range(KILLS):
            first = round_ * per_round + 1
            opening = asyncio.create_task(
                _open_gates(gates, range(first, first + per_round), rng)
            )
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            bot.kill()
            await opening
            bot.start()
            await emu.wait_connected(count=round_ + 2, within=60)
        await card_with(emu, CHAT, "✅ done", within=60)
        await wait_until(lambda: len(_counts(emu)) == LINES, within=60, what="every line")
        counts = _counts(emu)
    finally:
        bot.stop()
        emu.fail_ratio(0)

    assert sorted(counts) == list(range(1, LINES + 1))
    assert {n: c for n, c in counts.items() if c != 1} == {}
    log = bot.log.read_text()
    for noise in ("Traceback", "Task was destroyed but it is pending", "watchfiles"):
        assert noise not in log
