"""Turn cards streamed through CardKit, and the patched cards of an app without CardKit.

The bot runs as ``python -m cclark`` against the emulator (fake Claude); the same turn is run
by an app with the cardkit:card:write scope and by one without, and the person must see the
same card at the end either way.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from bot_process import ALICE, bot_with_window, card_with
from chat_view import card_text, colour
from feishu_emulator import App, ClientConfig, Emulator, SentOp
from feishu_emulator.models import CardOpKind
from support import World

pytestmark = pytest.mark.e2e

CHAT = "oc_stream"


async def _turn(world: World, *, cardkit: bool) -> tuple[Emulator, str]:
    """Run one three-part turn (the first part alone for a while) with an app that has
    CardKit or not; the emulator afterwards, and the turn card's text as the person sees it."""
    emu = Emulator(apps=[App(cardkit=cardkit)], client_config=ClientConfig.fast())
    await emu.start()
    running = await bot_with_window(world, emu, "claude", CHAT)
    try:
        await emu.wait_connected(within=60)
        await emu.post_text("PARTS: 3", chat_id=CHAT, sender_open_id=ALICE)
        await card_with(emu, CHAT, "part 1 of 3", within=30)
        world.gate.touch()
        done = await card_with(emu, CHAT, "part 3 of 3", "✅ done", within=30)
        text = card_text(done.body())
        assert colour(done.body()) == "green"
    finally:
        running.stop()
        await emu.stop()
        _forget_the_run(world)
    return emu, text


def _forget_the_run(world: World) -> None:
    """Leave the world as a fresh one: no tmux windows, no bot state, the gate closed."""
    world.tmux("kill-server", check=False)
    for name in ("state.db", "state.db-wal", "state.db-shm", "state.json"):
        (world.config_dir / name).unlink(missing_ok=True)
    world.gate.unlink(missing_ok=True)
    Path(world.agent_log).unlink(missing_ok=True)


async def test_a_streamed_turn_ends_with_exactly_the_text_of_a_patched_one(
    world: World, loopback: None
) -> None:
    streamed, streamed_text = await _turn(world, cardkit=True)
    patched, patched_text = await _turn(world, cardkit=False)

    assert streamed_text == patched_text
    assert "part 1 of 3" in streamed_text
    kinds = [op.op for op in streamed.card_ops()]
    assert kinds[0] is CardOpKind.CREATE
    typed = [op.content for op in streamed.card_ops() if op.op is CardOpKind.CONTENT]
    assert typed  # the growing text was typed out, each time the whole text so far
    assert all(later.startswith(earlier) for earlier, later in pairwise(typed))
    assert kinds[-1] is CardOpKind.UPDATE
    assert CardOpKind.SETTINGS in kinds
    (card_id,) = {op.card_id for op in streamed.card_ops()}
    assert not streamed.card_entity(card_id).streaming  # closed at the turn's end
    assert not [s for s in streamed.sent if s.op is SentOp.PATCH]
    assert patched.card_ops() == ()
    assert [s for s in patched.sent if s.op is SentOp.PATCH]
