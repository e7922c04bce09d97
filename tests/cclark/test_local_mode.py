"""`cclark` with no Feishu app configured starts local mode and says where to go."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot_process import free_port, stop_process
from support import World, wait_until

pytestmark = pytest.mark.e2e


async def test_no_app_configured_starts_local_mode_with_its_chat_page_and_health(
    world: World,
) -> None:
    health = free_port()
    config = {"gateway": {"tmux_session": "uicc-test", "tmux_socket": world.socket},
              "health": {"host": "127.0.0.1", "port": health}}  # fmt: skip
    world.config_dir.mkdir(parents=True, exist_ok=True)
    (world.config_dir / "config.yaml").write_text(json.dumps(config))
    out = world.root / "cclark.out"
    process = _start_cclark(out)
    try:
        printed = await wait_until(
            lambda: re.search(r"Chat:\s+(http://127\.0\.0\.1:(\d+)/chat)", out.read_text()),
            within=60, what="the chat URL")  # fmt: skip
        async with aiohttp.ClientSession() as session:
            async with session.get(printed[1]) as page:
                html = await page.text()
            base = printed[1].removesuffix("/chat")
            async with session.get(f"{base}/_emulator/page/config") as answer:
                settings = await answer.json()
            status = await wait_until(lambda: _health(session, health), what="healthy")
    finally:
        stop_process(process)
        world.tmux("kill-server", check=False)

    text = out.read_text()
    assert "local mode" in text
    assert f"#new opens agents under {world.home.resolve()}" in text  # no roots configured
    assert "<title>" in html
    users = [(u["name"], u["allowed"]) for u in settings["users"]]
    assert users == [("You", True), ("A stranger", False)]
    assert status == 200


def _start_cclark(out: Path) -> subprocess.Popen[bytes]:
    """``cclark --port 0`` with stdout to out; the config names no Feishu app."""
    with out.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "cclark", "--port", "0"], stdout=sink,
                                stderr=subprocess.DEVNULL)  # fmt: skip


async def _health(session: aiohttp.ClientSession, port: int) -> int | None:
    async with session.get(f"http://127.0.0.1:{port}/health") as response:
        return response.status if response.status == 200 else None
