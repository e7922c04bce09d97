"""cclark as a user meets it: the real bot process, the real lark-oapi SDK, the Feishu emulator,
a real gateway on a private tmux server, and a scripted agent.

The bot runs as ``python -m cclark`` (the SDK allows one WebSocket client per process).
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from PIL import Image

from cclark.emulator import ClientConfig, Emulator, RefuseMode
from fakes.agent_homes import INHERITED_ENV_TO_DROP, agent_cli, kill_home_processes, seed_agent_home
from fakes.model_apis import FakeModelAPIs
from support import FAKE_AGENT, FAKE_CLAUDE, World, wait_until
from unified_icc import ChannelId, UnifiedICC, load_config
from unified_icc.terminal import ScreenshotRenderer, ScreenshotStyle

pytestmark = pytest.mark.e2e

ALICE = "ou_alice_0000000000000000000000"
MALLORY = "ou_mallory_00000000000000000000"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Bot:
    """The cclark process under test and the files it leaves."""

    def __init__(self, world: World, emu: Emulator) -> None:
        self.world = world
        self.emu = emu
        self.health_port = _free_port()
        self.log = world.root / "cclark.log"
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self, real_claude: dict[str, str] | None = None) -> None:
        app = self.emu.app
        world = self.world
        env = {"FAKE_AGENT_LOG": str(world.agent_log), "FAKE_CLAUDE_GATE": str(world.gate)}
        config = {
            "gateway": {"tmux_session": "uicc-test", "tmux_socket": self.world.socket,
                        "workspace_roots": [str(self.world.workspace)], "poll_interval": 0.2,
                        "ready_timeout": 2},
            "providers": {
                "shell": {"command": f"{sys.executable} {FAKE_AGENT}", "env": env},
                "claude": {"command": f"{sys.executable} {FAKE_CLAUDE}", "env": env},
                # An agent that never confirms a submission: typing into it is slow.
                "codex": {"command": f"{sys.executable} {FAKE_AGENT}", "env": env},
            },
            "feishu": {"apps": [{"name": "main", "app_id": app.app_id,
                                 "app_secret": app.app_secret, "domain": self.emu.url,
                                 "allowed_users": [ALICE]}],
                       "watchdog_seconds": 3},
            "health": {"host": "127.0.0.1", "port": self.health_port},
        }  # fmt: skip
        if real_claude is not None:
            claude = {"command": str(agent_cli("claude")), "env": real_claude}
            config["providers"]["claude"] = claude  # type: ignore[index]
        self.world.config_dir.mkdir(parents=True, exist_ok=True)
        (self.world.config_dir / "config.yaml").write_text(json.dumps(config))

    def start(self) -> None:
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen([sys.executable, "-m", "cclark"], stdout=sink,
                                            stderr=subprocess.STDOUT, env=env)  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(20)

    def audit(self) -> list[dict[str, Any]]:
        path = self.world.config_dir / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    async def health(self) -> tuple[int, dict[str, Any]]:
        url = f"http://127.0.0.1:{self.health_port}/health"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.json()


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


async def _reply_to(emu: Emulator, text: str, *, chat: str = "oc_e2e", sender: str = ALICE,
                    **post: Any) -> str:  # fmt: skip
    before = len(emu.sent)
    await emu.post_text(text, chat_id=chat, sender_open_id=sender, **post)
    sent = await emu.wait_for_sent(before + 1, within=30)
    return sent[-1].text


async def test_help_from_an_allowed_user_is_answered_and_acked_fast(
    bot: Bot, emu: Emulator
) -> None:
    posted = await emu.post_text("#help", chat_id="oc_e2e", sender_open_id=ALICE)

    ack = await emu.wait_for_ack(posted.event_id)
    sent = await emu.wait_for_sent(1, chat_id="oc_e2e", within=30)
    assert sent[0].text.startswith("cclark drives AI coding agents")
    assert ack.code == 200
    assert ack.latency < 1.0
    status, body = await bot.health()
    assert (status, body["feishu"]["connected"], body["tmux"]["ok"]) == (200, True, True)


async def test_the_same_event_delivered_twice_is_handled_once(bot: Bot, emu: Emulator) -> None:
    posted = await emu.post_text("#help", chat_id="oc_twice", sender_open_id=ALICE)
    await emu.wait_for_sent(1, chat_id="oc_twice", within=30)

    await emu.redeliver(posted.event_id)
    await emu.wait_for_acks(posted.event_id, 2)
    await emu.post_text("#nope", chat_id="oc_twice", sender_open_id=ALICE)
    sent = await emu.wait_for_sent(2, chat_id="oc_twice", within=30)

    assert [s.text.split()[0] for s in sent] == ["cclark", "Unknown"]


async def test_a_sender_not_on_the_list_gets_nothing_and_is_audited(
    bot: Bot, emu: Emulator
) -> None:
    posted = await emu.post_text("#help", chat_id="oc_intruder", sender_open_id=MALLORY)
    await emu.wait_for_ack(posted.event_id)
    await wait_until(lambda: [a for a in bot.audit() if a["kind"] == "refusal"], what="audit")

    assert [s for s in emu.sent if s.chat_id == "oc_intruder"] == []
    refusal = next(a for a in bot.audit() if a["kind"] == "refusal")
    assert refusal["user"] == MALLORY


async def test_a_message_from_before_the_bot_started_is_not_acted_on_and_the_user_is_told(
    bot: Bot, emu: Emulator
) -> None:
    an_hour_ago = int((time.time() - 3600) * 1000)

    text = await _reply_to(emu, "#help", chat="oc_old", create_time=an_hour_ago)

    assert "arrived while cclark was not running" in text
    assert "#help" in text


async def test_a_picture_gets_a_polite_answer(bot: Bot, emu: Emulator) -> None:
    before = len(emu.sent)
    await emu.post_message("image", {"image_key": "img_v2_x"}, chat_id="oc_pic",
                           sender_open_id=ALICE)  # fmt: skip
    sent = await emu.wait_for_sent(before + 1, within=30)

    assert sent[-1].text.startswith("I can only read text messages for now")


async def test_a_server_closed_socket_is_reconnected_and_the_next_message_handled(
    bot: Bot, emu: Emulator
) -> None:
    await emu.close_connections()
    await emu.wait_connected(count=2, within=60)

    assert (await _reply_to(emu, "#help", chat="oc_after")).startswith("cclark drives")


async def test_an_endpoint_refusing_for_a_while_then_recovering_is_reconnected(
    bot: Bot, emu: Emulator
) -> None:
    emu.refuse_ws_endpoint(RefuseMode.HTTP_503, seconds=3)
    await emu.close_connections()
    await emu.wait_connected(count=2, within=60)

    assert (await _reply_to(emu, "#help", chat="oc_refused")).startswith("cclark drives")


async def test_a_reconnect_the_sdk_gives_up_on_is_restarted_by_the_watchdog(
    bot: Bot, emu: Emulator
) -> None:
    # The SDK treats "connection limit exceeded" as fatal: its reconnect task dies silently.
    emu.refuse_ws_endpoint(RefuseMode.EXCEED_CONN_LIMIT, seconds=2)
    await emu.close_connections()
    await emu.wait_connected(count=2, within=60)

    assert (await _reply_to(emu, "#help", chat="oc_watchdog")).startswith("cclark drives")
    status, body = await bot.health()
    assert status == 200
    assert body["feishu"]["reconnects"] >= 1
    assert "starting a fresh client" in bot.log.read_text()


async def test_rate_limits_5xx_and_a_revoked_token_are_retried_and_nothing_doubles(
    bot: Bot, emu: Emulator
) -> None:
    emu.fail_next(2, status=503)
    assert (await _reply_to(emu, "#help", chat="oc_flaky")).startswith("cclark drives")
    emu.rate_limit_chat("oc_flaky", times=2)
    assert (await _reply_to(emu, "#help", chat="oc_flaky")).startswith("cclark drives")
    emu.invalidate_tokens()
    assert (await _reply_to(emu, "#help", chat="oc_flaky")).startswith("cclark drives")

    assert len([s for s in emu.sent if s.chat_id == "oc_flaky"]) == 3


async def test_an_event_in_two_parts_is_handled(bot: Bot, emu: Emulator) -> None:
    assert (await _reply_to(emu, "#help", chat="oc_parts", parts=2)).startswith("cclark drives")


async def _bot_with_window(world: World, emu: Emulator, provider: str, chat: str) -> Bot:
    running = Bot(world, emu)
    running.write_config()
    async with UnifiedICC(load_config()) as gateway:
        await gateway.create_window(world.workspace, provider,
                                    channel_id=ChannelId(f"feishu:main:{chat}"))  # fmt: skip
        await wait_until(lambda: world.agent_entries("started"), what="the agent")
    running.start()
    return running


async def test_a_slow_gateway_call_does_not_delay_the_ack(world: World, emu: Emulator) -> None:
    running = await _bot_with_window(world, emu, "codex", "oc_slow")
    try:
        await emu.wait_connected(within=60)
        posted = await emu.post_text("take your time", chat_id="oc_slow", sender_open_id=ALICE)
        ack = await emu.wait_for_ack(posted.event_id)
        submitted = await wait_until(lambda: world.agent_entries("submit"), what="the text")
    finally:
        running.stop()
    assert ack.latency < 1.0
    assert submitted[0]["text"] == "take your time"


async def test_text_reaches_the_bound_agent_and_its_reply_comes_back(
    world: World, emu: Emulator
) -> None:
    running = await _bot_with_window(world, emu, "claude", "oc_agent")
    try:
        await emu.wait_connected(within=60)
        posted = await emu.post_text("please say hi", chat_id="oc_agent", sender_open_id=ALICE)
        ack = await emu.wait_for_ack(posted.event_id)
        sent = await emu.wait_for_sent(1, chat_id="oc_agent", within=30)
    finally:
        running.stop()
    assert sent[0].text == "FAKE-REPLY: you said 'please say hi'"
    assert ack.latency < 1.0
    assert [s["text"] for s in world.agent_entries("submit")] == ["please say hi"]


async def test_a_chat_runs_the_real_claude_from_new_to_an_approved_command(
    world: World, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in INHERITED_ENV_TO_DROP:
        monkeypatch.delenv(name, raising=False)
    async with FakeModelAPIs() as apis:
        env = seed_agent_home(world.home, trusted_dirs=[world.workspace / "demo"], apis=apis)
        running = Bot(world, emu)
        running.write_config(real_claude=env["claude"])
        running.start()
        try:
            await emu.wait_connected(within=60)
            for step in ("#new", "#mkdir demo", "ok", "claude"):
                await _reply_to(emu, step, chat="oc_real")
            started = await _reply_to(emu, "standard", chat="oc_real")
            demo = world.workspace.resolve() / "demo"
            assert started.startswith(f"Session started: claude (standard) in {demo}")

            before = len(emu.sent)
            await emu.post_text("Say hello", chat_id="oc_real", sender_open_id=ALICE)
            reply = await _next_text(emu, before, "FAKE-REPLY")
            assert "FAKE-REPLY: you said 'Say hello'" in reply

            before = len(emu.sent)
            await emu.post_text("BASH: touch chat-approved.txt", chat_id="oc_real",
                                sender_open_id=ALICE)  # fmt: skip
            prompt = await _next_text(emu, before, "Reply with a number")
            assert "1. Yes" in prompt
            assert "3. No" in prompt
            before = len(emu.sent)
            await emu.post_text("1", chat_id="oc_real", sender_open_id=ALICE)
            # The agent's own output (the approved call) may reach the chat first.
            assert await _next_text(emu, before, "Answered 1.") == "Answered 1. Yes"
            await wait_until((world.workspace / "demo" / "chat-approved.txt").exists,
                             what="the approved command's file")  # fmt: skip
        finally:
            running.stop()
            world.tmux("kill-server", check=False)
            await kill_home_processes(world.home)


async def _next_text(emu: Emulator, before: int, needle: str) -> str:
    def find() -> str | None:
        return next((s.text for s in emu.sent[before:] if needle in s.text), None)

    found: str = await wait_until(find, within=60, what=f"a message with {needle!r}")
    return found


async def test_screenshot_arrives_as_an_image_of_the_pane(world: World, emu: Emulator) -> None:
    running = await _bot_with_window(world, emu, "shell", "oc_shot")
    try:
        await emu.wait_connected(within=60)
        await emu.post_text("#screenshot", chat_id="oc_shot", sender_open_id=ALICE)
        (sent,) = await emu.wait_for_sent(1, chat_id="oc_shot", within=30)
    finally:
        running.stop()
    assert sent.msg_type == "image"
    png = emu.image(sent.body()["image_key"])
    assert png is not None
    image = Image.open(io.BytesIO(png))
    cell, pad = ScreenshotRenderer().cell, ScreenshotStyle().padding
    assert image.size == (200 * cell.width + 2 * pad, 50 * cell.height + 2 * pad)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24) or []) > 2
