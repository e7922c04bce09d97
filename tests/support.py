"""Test support: the per-test World (temp folders, private tmux socket) and wait_until."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from unified_icc import Config, GatewaySettings, ProviderSettings, ProvidersSettings

FAKES = Path(__file__).parent / "fakes"
FAKE_AGENT = FAKES / "fake_agent.py"
FAKE_CLAUDE = FAKES / "fake_claude.py"
GATEWAY_DRIVER = FAKES / "gateway_driver.py"
WARM_BOT = FAKES / "warm_bot.py"
WAIT_TIMEOUT = 30.0


class WarmBots:
    """Starts cclark bots as forks of one process that imported cclark once (fakes/warm_bot.py):
    its imports (lark-oapi) take seconds of CPU, paid once per test run, not once per bot."""

    def __init__(self) -> None:
        self._zygote: subprocess.Popen[str] | None = None
        # The run's own environment, not the first bot's test's (its HOME would make the
        # zygote one of the processes that test's clean-up kills).
        self._environ = dict(os.environ)

    def fork(self, *, log: Path, env: Mapping[str, str]) -> int:
        """Start a bot writing to log, in env and the current folder; its pid."""
        if self._zygote is None:
            self._zygote = subprocess.Popen(
                [sys.executable, str(WARM_BOT)], text=True, env=self._environ,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )  # fmt: skip
        commands, pids = self._zygote.stdin, self._zygote.stdout
        assert commands is not None
        assert pids is not None
        request = {"log": str(log), "env": dict(env), "cwd": str(Path.cwd())}
        commands.write(json.dumps(request) + "\n")
        commands.flush()
        return int(pids.readline())

    def close(self) -> None:
        """The zygote ends when its stdin closes (the bots it started are stopped by tests)."""
        if self._zygote is not None:
            self._zygote.communicate(timeout=20)
            self._zygote = None


@dataclass(frozen=True, slots=True)
class World:
    """The temp folders and tmux socket of one test, and the run's warm bot starter."""

    root: Path
    home: Path
    config_dir: Path
    workspace: Path
    socket: str
    agent_log: Path
    bots: WarmBots = dataclasses.field(default_factory=WarmBots)

    @property
    def gate(self) -> Path:
        """The file fake_claude waits for in the middle of a ``PARTS: n`` turn."""
        return self.root / "gate"

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run tmux against this test's private server."""
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )

    async def kill_server(self) -> None:
        """Kill this test's tmux server and wait until it has really gone."""
        self.tmux("kill-server")

        def gone() -> bool:
            return "no server running" in self.tmux("list-sessions", check=False).stderr

        await wait_until(gone, what="the tmux server to exit")

    def agent_entries(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.agent_log.exists():
            return []
        # The agent may be half-way through writing its last line: only whole lines count.
        whole = self.agent_log.read_text().split("\n")[:-1]
        entries = [json.loads(line) for line in whole if line]
        return [e for e in entries if event is None or e["event"] == event]

    def write_config_yaml(self) -> Path:
        """Write config.yaml equal to config(), for processes that load it themselves."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / "config.yaml"
        path.write_text(
            "gateway:\n"
            "  tmux_session: uicc-test\n"
            f"  tmux_socket: {self.socket}\n"
            f"  workspace_roots: [{json.dumps(str(self.workspace))}]\n"
            "  poll_interval: 0.2\n"
            "providers:\n"
            "  shell:\n"
            f"    command: {json.dumps(f'{sys.executable} {FAKE_AGENT}')}\n"
            f"    env: {{FAKE_AGENT_LOG: {json.dumps(str(self.agent_log))}}}\n"
            "  claude:\n"
            f"    command: {json.dumps(f'{sys.executable} {FAKE_CLAUDE}')}\n"
            f"    env: {{FAKE_AGENT_LOG: {json.dumps(str(self.agent_log))}, "
            f"FAKE_CLAUDE_GATE: {json.dumps(str(self.gate))}}}\n"
        )
        return path

    def run_python(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a fresh Python process with this world's environment (HOME, folders, tmux)."""
        return subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def config(self, **gateway: Any) -> Config:
        env = {"FAKE_AGENT_LOG": str(self.agent_log), "FAKE_CLAUDE_GATE": str(self.gate)}
        fake = ProviderSettings(command=f"{sys.executable} {FAKE_AGENT}", env=env)
        claude = ProviderSettings(command=f"{sys.executable} {FAKE_CLAUDE}", env=env)
        settings = {
            "tmux_session": "uicc-test",
            "tmux_socket": self.socket,
            "workspace_roots": (self.workspace,),
            "poll_interval": 0.2,
            **gateway,
        }
        return Config(
            config_dir=self.config_dir,
            gateway=GatewaySettings(**settings),
            providers=ProvidersSettings(shell=fake, claude=claude),
        )

    def bash_config(self, **gateway: Any) -> Config:
        """config(), with a real bash (no rc files, prompt ``$ ``) as the shell provider."""
        bash = ProviderSettings(command="bash --norc --noprofile", env={"PS1": "$ "})
        return dataclasses.replace(self.config(**gateway), providers=ProvidersSettings(shell=bash))




async def wait_until(
    predicate: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    within: float = WAIT_TIMEOUT,
    what: str = "condition",
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(0.05)


def cookie_jar() -> aiohttp.CookieJar:
    """A client cookie jar that keeps what 127.0.0.1 sets (aiohttp's default ignores cookies
    from an IP address): the chat page's cookie, for a test acting as the person's browser."""
    return aiohttp.CookieJar(unsafe=True)


def start_gateway_driver() -> subprocess.Popen[str]:
    """A gateway in its own process (fakes/gateway_driver.py), started and ready."""
    driver = subprocess.Popen([sys.executable, str(GATEWAY_DRIVER)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert driver.stdout is not None
    assert driver.stdout.readline().strip() == "ready"
    return driver


def kill_gateway_driver(driver: subprocess.Popen[str]) -> None:
    """SIGKILL: the gateway gets no chance to save or say goodbye."""
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    if driver.stdout is not None:
        driver.stdout.close()


def delivered_by_driver(config_dir: Path) -> list[str]:
    """The message texts the driver's gateway delivered (committed to state.db), in order."""
    database = config_dir / "state.db"
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(database)) as conn:
        try:
            rows = conn.execute(
                "SELECT event FROM driver_events WHERE kind='message' ORDER BY n"
            ).fetchall()
        except sqlite3.OperationalError:  # the driver has not defined its table yet
            return []
    return [m["text"] for (event,) in rows for m in json.loads(event)["messages"]]
