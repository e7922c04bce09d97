"""Fixtures for meeting the bot as a user: the Feishu emulator and the bot process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot_process import Bot
from feishu_emulator import ClientConfig, Emulator
from support import World


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
async def emu(loopback: None) -> AsyncIterator[Emulator]:
    async with Emulator(client_config=ClientConfig.fast()) as emulator:
        yield emulator


@pytest.fixture
async def bot(world: World, emu: Emulator) -> AsyncIterator[Bot]:
    running = Bot(world, emu)
    running.write_config()
    running.start()
    try:
        await emu.wait_connected(within=60)
        yield running
    finally:
        running.stop()
