"""Test support: the per-test World (temp folders, private tmux socket) and wait_until."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unified_icc import Config, GatewaySettings, ProviderSettings, ProvidersSettings

FAKES = Path(__file__).parent / "fakes"
FAKE_AGENT = FAKES / "fake_agent.py"
WAIT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class World:
    """The temp folders and tmux socket of one test."""

    root: Path
    home: Path
    config_dir: Path
    workspace: Path
    socket: str
    agent_log: Path

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run tmux against this test's private server."""
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )

    def agent_entries(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.agent_log.exists():
            return []
        entries = [json.loads(line) for line in self.agent_log.read_text().splitlines() if line]
        return [e for e in entries if event is None or e["event"] == event]

    def config(self, **gateway: Any) -> Config:
        fake = ProviderSettings(
            command=f"{sys.executable} {FAKE_AGENT}",
            env={"FAKE_AGENT_LOG": str(self.agent_log)},
        )
        settings = {"tmux_session": "uicc-test", "tmux_socket": self.socket,
                    "workspace_roots": (self.workspace,), "poll_interval": 0.2, **gateway}  # fmt: skip
        return Config(
            config_dir=self.config_dir,
            gateway=GatewaySettings(**settings),
            providers=ProvidersSettings(shell=fake),
        )




async def wait_until(
    predicate: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    timeout: float = WAIT_TIMEOUT,
    what: str = "condition",
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.05)
