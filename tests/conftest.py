"""Shared fixtures: an isolated world per test (HOME, UNIFIED_ICC_DIR, a private tmux server).

Nothing here touches the real user's home, config folder or tmux server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from support import WarmBots, World
from unified_icc import UnifiedICC


@pytest.fixture(scope="session")
def warm_bots() -> Iterator[WarmBots]:
    """One bot starter for the whole run (its process starts at the first bot)."""
    bots = WarmBots()
    yield bots
    bots.close()


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_bots: WarmBots
) -> Iterator[World]:
    home = tmp_path / "home"
    workspace = tmp_path / "workspace"
    tmux_dir = tmp_path / "tmux"
    for folder in (home, workspace, tmux_dir):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("UNIFIED_ICC_DIR", str(tmp_path / "icc"))
    monkeypatch.setenv("TMUX_TMPDIR", str(tmux_dir))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)
    state = World(
        root=tmp_path,
        home=home,
        config_dir=tmp_path / "icc",
        workspace=workspace,
        socket=f"uicc-{os.getpid()}-{secrets.token_hex(4)}",
        agent_log=tmp_path / "agent.jsonl",
        bots=warm_bots,
    )
    yield state
    state.tmux("kill-server", check=False)


@pytest.fixture
async def gateway(world: World) -> AsyncIterator[UnifiedICC]:
    async with UnifiedICC(world.config()) as started:
        yield started
