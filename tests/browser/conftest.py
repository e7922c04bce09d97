"""Fixtures for the browser tests: the emulator serving its chat page, headless Chromium on it,
the bot's side as the real lark-oapi REST client, and a screenshot of every test's page.

Chromium is Debian's ``/usr/bin/chromium`` (``scripts/install-browser.sh`` installs it);
Playwright drives it and never downloads a browser. Without it the tests fail, never skip.
Screenshots land in ``<repo>/.artifacts/browser/<test name>.png``, also when a test fails.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lark_oapi as lark
import pytest
from lark_oapi.api.im.v1 import (
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright

from feishu_emulator import App, ClientConfig, Emulator
from feishu_emulator.models import PageSettings, PageUser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts" / "browser"
WS_BOT = REPO / "tests" / "feishu_emulator" / "ws_bot.py"
VIEWPORT = {"width": 1100, "height": 820}
STOP_TIMEOUT = 10.0

ALICE = PageUser(open_id="ou_browser_alice", name="Alice", allowed=True, p2p_chat_id="oc_dm_alice")
BOB = PageUser(open_id="ou_browser_bob", name="Bob", allowed=False, p2p_chat_id="oc_dm_bob")
GROUP = "oc_browser_topics"


class LarkBot:
    """The bot's side of the tests: the real SDK REST client against the emulator."""

    def __init__(self, client: lark.Client) -> None:
        self._client = client

    async def send(self, chat_id: str, msg_type: str, content: dict[str, Any]) -> str:
        body = (
            CreateMessageRequestBody.builder()
            .receive_id(chat_id)
            .msg_type(msg_type)
            .content(json.dumps(content, ensure_ascii=False))
            .build()
        )
        request = (
            CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body).build()
        )
        response = await asyncio.to_thread(self._client.im.v1.message.create, request)
        assert response.code == 0, response.msg
        return str(response.data.message_id)

    async def send_text(self, chat_id: str, text: str) -> str:
        return await self.send(chat_id, "text", {"text": text})

    async def send_card(self, chat_id: str, card: dict[str, Any]) -> str:
        return await self.send(chat_id, "interactive", card)

    async def reply_text(self, message_id: str, text: str, *, in_thread: bool = True) -> str:
        body = (
            ReplyMessageRequestBody.builder()
            .msg_type("text")
            .content(json.dumps({"text": text}, ensure_ascii=False))
            .reply_in_thread(in_thread)
            .build()
        )
        request = ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()
        response = await asyncio.to_thread(self._client.im.v1.message.reply, request)
        assert response.code == 0, response.msg
        return str(response.data.message_id)

    async def patch_card(self, message_id: str, card: dict[str, Any]) -> None:
        content = json.dumps(card, ensure_ascii=False)
        body = PatchMessageRequestBody.builder().content(content).build()
        request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()
        response = await asyncio.to_thread(self._client.im.v1.message.patch, request)
        assert response.code == 0, response.msg

    async def upload_image(self, png: bytes) -> str:
        body = CreateImageRequestBody.builder().image_type("message").image(io.BytesIO(png)).build()
        request = CreateImageRequest.builder().request_body(body).build()
        response = await asyncio.to_thread(self._client.im.v1.image.create, request)
        assert response.code == 0, response.msg
        return str(response.data.image_key)


@dataclass(frozen=True, slots=True)
class WsBot:
    """lark-oapi's ws.Client in a process of its own (tests/feishu_emulator/ws_bot.py): it
    records every event it gets and answers "[echo] …" messages over REST."""

    process: subprocess.Popen[bytes]
    out: Path

    @classmethod
    def start(cls, emu: Emulator, folder: Path) -> WsBot:
        out = folder / "ws-bot.jsonl"
        argv = [
            sys.executable,
            str(WS_BOT),
            f"--domain={emu.url}",
            f"--app-id={emu.app.app_id}",
            f"--app-secret={emu.app.app_secret}",
            f"--out={out}",
        ]
        with (folder / "ws-bot.log").open("wb") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        return cls(process=process, out=out)

    def messages(self) -> list[dict[str, Any]]:
        if not self.out.exists():
            return []
        records = [json.loads(line) for line in self.out.read_text().splitlines() if line]
        return [r for r in records if r["kind"] == "message"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def png(width: int = 160, height: int = 90, colour: str = "#3370ff") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests (inside lark-oapi) honours proxy variables; everything here is on loopback.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package. "
            "Run scripts/install-browser.sh (as root) or: sudo apt-get install chromium",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator serving the chat page for Alice (allowed), Bob (not) and a topic group."""
    app = App(bot_name="cclark")
    settings = PageSettings(
        app_id=app.app_id,
        bot_name=app.bot_name,
        users=(ALICE, BOB),
        group_chat_id=GROUP,
        group_name="Team topics",
        app_name="cclark (work app)",
    )
    async with Emulator(apps=[app], client_config=ClientConfig.fast(), page=settings) as emulator:
        yield emulator


@pytest.fixture
def bot(emu: Emulator) -> LarkBot:
    client = (
        lark.Client.builder()
        .app_id(emu.app.app_id)
        .app_secret(emu.app.app_secret)
        .domain(emu.url)
        .timeout(10)
        .build()
    )
    return LarkBot(client)


@pytest.fixture
def ws_bot(emu: Emulator, tmp_path: Path) -> Iterator[WsBot]:
    process = WsBot.start(emu, tmp_path)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="chromium-home-") as home:
        env = {**os.environ, "HOME": home}  # Chromium's caches and crash reports stay here
        async with async_playwright() as playwright:
            launched = await playwright.chromium.launch(
                executable_path=str(chromium), args=CHROMIUM_ARGS, env=env
            )
            try:
                yield launched
            finally:
                await launched.close()


@pytest.fixture
async def page(
    browser: Browser, emu: Emulator, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """The chat page, loaded and following the feed; screenshotted when the test ends."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = await context.new_page()
    try:
        await opened.goto(emu.page_url)
        await opened.wait_for_selector("body[data-feed='live']")
        yield opened
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await opened.screenshot(path=ARTIFACTS / f"{request.node.name}.png")
        await context.close()
