"""Fixtures for the emulator's tests: an emulator per test, and bots as real SDK processes.

``BotProcess`` runs ws_bot.py (lark-oapi's ws.Client) in a process of its own, because the
SDK allows one ws.Client per process and offers no stop(); reuse it for any test that needs a
connected bot: ``BotProcess.start(emu, folder)``, ``bot.records("message")``, ``bot.stop()``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lark_oapi as lark
import pytest

from feishu_emulator import ClientConfig, Emulator

WS_BOT = Path(__file__).with_name("ws_bot.py")
STOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class BotProcess:
    """A lark-oapi ws.Client in its own process, recording what it sees as JSON lines."""

    process: subprocess.Popen[bytes]
    out: Path
    log: Path

    @classmethod
    def start(cls, emu: Emulator, folder: Path) -> BotProcess:
        folder.mkdir(parents=True, exist_ok=True)
        out, log = folder / "bot.jsonl", folder / "bot.log"
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        argv = [
            sys.executable,
            str(WS_BOT),
            f"--domain={emu.url}",
            f"--app-id={emu.app.app_id}",
            f"--app-secret={emu.app.app_secret}",
            f"--out={out}",
        ]
        with log.open("wb") as sink:
            process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env)
        return cls(process=process, out=out, log=log)

    def records(self, kind: str | None = None, **match: Any) -> list[dict[str, Any]]:
        """What the bot wrote, optionally only one kind and matching fields."""
        if not self.out.exists():
            return []
        lines = [json.loads(line) for line in self.out.read_text().splitlines() if line]
        return [
            r
            for r in lines
            if kind in (None, r["kind"]) and all(r.get(k) == v for k, v in match.items())
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests and httpx honour proxy variables; the emulator's traffic stays on loopback.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """A fresh test server with one freshly generated app (so SDK token caches never collide),
    its /_emulator controls mounted."""
    async with Emulator(client_config=ClientConfig.fast(), test_controls=True) as emulator:
        yield emulator


@pytest.fixture
def rest(emu: Emulator) -> lark.Client:
    """The SDK's REST client pointed at the emulator."""
    return (
        lark.Client.builder()
        .app_id(emu.app.app_id)
        .app_secret(emu.app.app_secret)
        .domain(emu.url)
        .timeout(10)
        .build()
    )


@pytest.fixture
async def bot(emu: Emulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    """A connected bot of this test's own (for tests that break its connection)."""
    process = BotProcess.start(emu, tmp_path / "bot")
    try:
        await emu.wait_connected(within=30)
        yield process
    finally:
        process.stop()


@dataclass(frozen=True, slots=True)
class SharedBot:
    emu: Emulator
    bot: BotProcess


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedBot]:
    """One emulator and one connected bot for a whole module of non-destructive tests.

    Starting a bot costs an interpreter and the SDK's import (~3 s); tests that share one
    tell their events apart by event_id. The emulator lives on its own thread, so any loop
    may drive it: here short-lived ones, in the tests pytest-asyncio's.
    """
    emulator = Emulator(client_config=ClientConfig.fast())
    asyncio.run(emulator.start())
    process = BotProcess.start(emulator, tmp_path_factory.mktemp("shared-bot"))
    try:
        asyncio.run(emulator.wait_connected(within=30))
        yield SharedBot(emu=emulator, bot=process)
    finally:
        process.stop()
        asyncio.run(emulator.stop())
