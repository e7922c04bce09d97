"""A chat with one real agent CLI through the bot, as a phone sees it.

Shared by the tests that drive Codex, Gemini (and Claude) through ``python -m cclark``: the
real lark-oapi SDK against the Feishu emulator, a private tmux server, and the pinned CLI
talking to the fake model APIs on 127.0.0.1. The chat's session is opened by the #new wizard.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot_process import ALICE, Bot, card_with, next_text, reply_to
from fakes.agent_homes import INHERITED_ENV_TO_DROP, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs
from feishu_emulator import Emulator, Message
from support import World

__all__ = ["CHAT", "RealChat", "real_chat"]

CHAT = "oc_real"


class RealChat:
    """Alice's chat with the bot, whose session runs ``provider`` in the folder ``demo``."""

    def __init__(self, emu: Emulator, apis: FakeModelAPIs, demo: Path, provider: str) -> None:
        self.emu, self.apis, self.demo, self.provider = emu, apis, demo, provider
        self.turns = 0

    async def say(self, text: str) -> int:
        """Post text as Alice; returns how many sends the bot had made before it."""
        before = len(self.emu.sent)
        await self.emu.post_text(text, chat_id=CHAT, sender_open_id=ALICE)
        return before

    async def turn(self, text: str) -> tuple[int, str]:
        """Send a message that starts a turn; returns (sends before it, its done notice)."""
        before = await self.say(text)
        self.turns += 1
        return before, await self.done(before)

    async def done(self, before: int) -> str:
        """The turn's "✅" notice sent after the before-th send."""
        return await next_text(self.emu, before, f"✅ {self.provider} · demo")

    def done_notices(self) -> list[str]:
        return [s.text for s in self.emu.sent if s.text and s.text.startswith("✅ ")]

    async def card(self, *needles: str, **where: object) -> Message:
        return await card_with(self.emu, CHAT, *needles, **where)

    async def prompt_card(self, *needles: str) -> Message:
        return await card_with(self.emu, CHAT, "Reply with a number", *needles)


@contextlib.asynccontextmanager
async def real_chat(
    world: World,
    emu: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    *,
    retries: bool = True,
    gateway: Mapping[str, Any] | None = None,
) -> AsyncIterator[RealChat]:
    """The bot started with the real ``provider`` CLI, and a session opened in ``demo`` by
    the wizard (standard mode). ``retries=False``: the CLI reports a refused request at once;
    ``gateway``: settings of config.yaml's gateway section."""
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    demo = world.workspace / "demo"
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[demo], apis=apis, retries=retries)
        bot = Bot(world, emu)
        bot.write_config(real_agents={provider: env[provider]}, gateway=gateway)
        bot.start()
        try:
            await emu.wait_connected(within=60)
            for step in ("#new", "#mkdir demo", "ok", provider):
                await reply_to(emu, step, chat=CHAT)
            started = await reply_to(emu, "standard", chat=CHAT)
            assert started.startswith(f"Session started: {provider} (standard) in {demo.resolve()}")
            yield RealChat(emu, apis, demo, provider)
        finally:
            bot.stop()
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)
