"""The cclark bot as a separate process against the Feishu emulator, and talking to it.

Shared by the tests that meet cclark as a user does: ``python -m cclark`` (the SDK allows one
WebSocket client per process) with a config naming the emulator, a private tmux server, and
scripted agents (or the real Claude CLI against the fake model API).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from chat_view import card_text, question_text
from fakes.agent_homes import agent_cli
from feishu_emulator import Emulator, Message, Sent, SentOp
from support import FAKE_AGENT, FAKE_CLAUDE, World, wait_until
from unified_icc import ChannelId, UnifiedICC, load_config

__all__ = [
    "ALICE",
    "MALLORY",
    "Bot",
    "bot_with_window",
    "card_with",
    "free_port",
    "next_text",
    "reply_to",
    "said",
    "stop_process",
]

ALICE = "ou_alice_0000000000000000000000"
MALLORY = "ou_mallory_00000000000000000000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Bot:
    """The cclark process under test and the files it leaves.

    Each start is ``python -m cclark`` as forked by the run's warm bot starter (world.bots),
    which imported cclark once, so a start costs the bot's start-up and not its imports.
    """

    def __init__(self, world: World, emu: Emulator) -> None:
        self.world = world
        self.emu = emu
        self.health_port = free_port()
        self.log = world.root / "cclark.log"
        self._pid: int | None = None

    def write_config(
        self,
        real_claude: dict[str, str] | None = None,
        *,
        real_agents: Mapping[str, Mapping[str, str]] | None = None,
        real_shell: bool = False,
        gateway: Mapping[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        orchestrator: Mapping[str, Any] | None = None,
    ) -> None:
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
        real = {**(real_agents or {}), **({"claude": real_claude} if real_claude else {})}
        for name, agent_env in real.items():
            real_cli = {"command": str(agent_cli(name)), "env": dict(agent_env)}
            config["providers"][name] = real_cli  # type: ignore[index]
        if real:
            # A real CLI may take seconds to draw its input box on a busy machine; typing
            # sooner loses the text (the fakes' 2 s would).
            config["gateway"]["ready_timeout"] = 30  # type: ignore[index]
        if real_shell:
            config["providers"]["shell"] = {"command": "bash --noprofile --norc"}  # type: ignore[index]
        if files is not None:
            config["files"] = files
        if orchestrator is not None:
            config["orchestrator"] = dict(orchestrator)
        config["gateway"].update(gateway or {})  # type: ignore[attr-defined]
        self.world.config_dir.mkdir(parents=True, exist_ok=True)
        (self.world.config_dir / "config.yaml").write_text(json.dumps(config))

    def start(self) -> None:
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        self._pid = self.world.bots.fork(log=self.log, env=env)

    def stop(self) -> None:
        """SIGTERM (cclark stops in order), SIGKILL if it is still there after 20 s."""
        if self._pid is not None:
            _signal_and_wait(self._pid, signal.SIGTERM, within=20)
            _signal_and_wait(self._pid, signal.SIGKILL, within=20)

    def kill(self) -> None:
        """SIGKILL: the bot gets no chance to send, save or say goodbye."""
        if self._pid is not None:
            _signal_and_wait(self._pid, signal.SIGKILL, within=20)

    def audit(self) -> list[dict[str, Any]]:
        path = self.world.config_dir / "audit.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    async def health(self, path: str = "/health") -> tuple[int, dict[str, Any]]:
        url = f"http://127.0.0.1:{self.health_port}{path}"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.json()


def _signal_and_wait(pid: int, signum: signal.Signals, *, within: float) -> None:
    """Send signum to pid unless it is gone, and wait (polling) until it is."""
    deadline = time.monotonic() + within
    try:
        os.kill(pid, signum)
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.02)
    except ProcessLookupError:
        return


async def bot_with_window(
    world: World, emu: Emulator, provider: str, chat: str, **config: Any
) -> Bot:
    """A started bot (fake agents; config as write_config takes it) whose chat already has a
    window of provider, bound to it."""
    running = Bot(world, emu)
    running.write_config(**config)
    async with UnifiedICC(load_config()) as gateway:
        await gateway.create_window(world.workspace, provider,
                                    channel_id=ChannelId(f"feishu:main:{chat}"))  # fmt: skip
        await wait_until(lambda: world.agent_entries("started"), what="the agent")
    running.start()
    return running


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process (cclark stops in order), SIGKILL it if it is still there after 20 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(20)


async def reply_to(emu: Emulator, text: str, *, chat: str = "oc_e2e", sender: str = ALICE,
                    **post: Any) -> str:  # fmt: skip
    """Post text and return the bot's first answer after it: a text, or the text of a card on
    which the bot asks something (a #new step, the session list).

    The agents' output (cards, and the "✅ …" notices that end their turns) is skipped: a
    window's agent may print while the test talks to the bot.
    """
    before = len(emu.sent)
    await emu.post_text(text, chat_id=chat, sender_open_id=sender, **post)

    def answer() -> str | None:
        texts = (said(s) for s in emu.sent[before:] if s.chat_id == chat)
        return next((t for t in texts if t is not None and not t.startswith("✅ ")), None)

    found: str = await wait_until(answer, within=30, what=f"the answer to {text!r}")
    return found




def said(sent: Sent) -> str | None:
    """What a new message of the bot says in words: its text, or a question card's text."""
    if sent.text is not None:
        return sent.text
    if sent.msg_type == "interactive" and sent.op is not SentOp.PATCH:
        return question_text(sent.body())
    return None


async def next_text(emu: Emulator, before: int, needle: str, *, within: float = 60) -> str:
    """The first text the bot sent after the before-th send that contains needle."""

    def find() -> str | None:
        return next((s.text for s in emu.sent[before:] if s.text and needle in s.text), None)

    found: str = await wait_until(find, within=within, what=f"a message with {needle!r}")
    return found


async def card_with(
    emu: Emulator, chat: str, *needles: str, within: float = 60, **where: Any
) -> Message:
    """The first card in chat that (as it stands now) shows every needle."""

    def find() -> Message | None:
        for message in emu.messages_in(chat):
            if message.msg_type == "interactive" and _matches(message, needles, where):
                return message
        return None

    found: Message = await wait_until(find, within=within, what=f"a card with {needles!r}")
    return found


def _matches(message: Message, needles: tuple[str, ...], where: Mapping[str, Any]) -> bool:
    if any(getattr(message, key) != value for key, value in where.items()):
        return False
    text = card_text(message.body())
    return all(needle in text for needle in needles)
