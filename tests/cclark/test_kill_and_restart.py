"""Nothing lost, nothing doubled: the real bot SIGKILLed at many moments of an agent's output.

The bot runs as ``python -m cclark`` (real lark-oapi SDK, Feishu emulator, a private tmux
server). A real bash loop prints 60 numbered lines, each released by the test through a gate
file, so the kills land while lines are being delivered: after each restart a few lines are
released and the bot is killed at a random moment among them. At the end every line must be
in the chat's cards exactly once, also when Feishu fails one request in ten. The same holds,
with Feishu failing one request in ten, for the steps of one real Claude Code turn (against
the fake Anthropic API), each step's command waiting for its own gate.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from bot_process import ALICE, Bot, card_with, reply_to
from chat_view import card_text
from fakes.agent_homes import INHERITED_ENV_TO_DROP, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs, Reply
from feishu_emulator import Emulator
from feishu_emulator.models import CardOpKind
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
    # The turn's cards were streamed (typed out) through CardKit, and each stream was closed.
    ops = emu.card_ops()
    assert any(op.op is CardOpKind.CONTENT for op in ops)
    assert [c for c in {op.card_id for op in ops} if emu.card_entity(c).streaming] == []
    log = bot.log.read_text()
    for noise in ("Traceback", "Task was destroyed but it is pending", "watchfiles",
                  "Feishu refused"):  # fmt: skip
        assert noise not in log


CLAUDE_CHAT = "oc_kill_claude"
STEPS = KILLS
_STEP = re.compile(r"\bStep (\d+)\.")


def _step_counts(emu: Emulator) -> Counter[int]:
    shown = "\n".join(card_text(m.body()) for m in emu.messages_in(CLAUDE_CHAT)
                      if m.msg_type == "interactive")  # fmt: skip
    return Counter(int(n) for n in _STEP.findall(shown))


@pytest.mark.e2e
async def test_every_step_of_a_real_claude_turn_shows_once_however_often_the_bot_is_killed(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    rng = random.Random(11)
    demo, gates = world.workspace / "demo", world.workspace / "gates"
    demo.mkdir()
    gates.mkdir()
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[demo], apis=apis)
        bot = Bot(world, emu)
        bot.write_config(real_claude=env["claude"])
        # Each step's command waits for its gate, so the kills land between the steps' writes.
        for step in range(1, STEPS + 1):
            wait = f"until [ -e {gates}/g{step} ]; do sleep 0.05; done"
            command = f"{wait}; echo out-$(({step}+1000))"
            apis.force_reply("claude", Reply(text=f"Step {step}.", command=command))
        apis.force_reply("claude", Reply(text="All steps done."))
        emu.fail_ratio(0.1, seed=3)  # and Feishu fails one request in ten all along
        bot.start()
        try:
            await emu.wait_connected(within=60)
            for text in ("#new", "demo", "ok", "claude", "yolo"):
                await reply_to(emu, text, chat=CLAUDE_CHAT)
            await emu.post_text("run the steps", chat_id=CLAUDE_CHAT, sender_open_id=ALICE)
            await card_with(emu, CLAUDE_CHAT, "Step 1.", within=60)
            for step in range(1, STEPS + 1):
                (gates / f"g{step}").touch()
                await asyncio.sleep(rng.uniform(0.0, 1.5))
                bot.kill()
                bot.start()
                await emu.wait_connected(count=step + 1, within=60)
            await card_with(emu, CLAUDE_CHAT, "All steps done.", "✅ done", within=90)
            counts = _step_counts(emu)
        finally:
            bot.stop()
            emu.fail_ratio(0)
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)

    assert counts == Counter(range(1, STEPS + 1))  # every step, each exactly once
    card_ids = {op.card_id for op in emu.card_ops()}
    assert card_ids  # streamed through CardKit...
    assert [c for c in card_ids if emu.card_entity(c).streaming] == []  # ...and closed
    log = bot.log.read_text()
    assert "Traceback" not in log
    assert "Feishu refused" not in log
