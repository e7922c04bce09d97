"""Capture what the pinned agent CLIs show, as screen fixtures: refusals of the model API, modes.

Usage: .venv/bin/python scripts/capture_screens.py errors|modes [claude codex gemini]
       (errors: STATUSES=429,401 limits the statuses)

Each CLI runs in a private tmux server (120x40) with a temp HOME against the fake model APIs
on 127.0.0.1; a screen is saved once it has been still for a few seconds, as
tests/fixtures/screens/<cli>/<version>/<name>.txt (plain) and .ansi (with colours).

errors: the API refuses every turn with 429 (rate limit), 401 (bad key) or an overload
  (Anthropic's 529, 503 for the others); the CLI is seeded not to retry. Saved as e-<status>,
  and the session's transcript as tests/fixtures/transcripts/<cli>/api-error-<status>.jsonl.
modes: the CLI launched in each mode it has (m-<mode>), and Claude after one, two and three
  Shift-Tabs from its default mode (m-shift-tab-<n>).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "src"))

from fakes.agent_homes import agent_cli, kill_home_processes, seed_agent_home  # noqa: E402
from fakes.model_apis import FakeModelAPIs  # noqa: E402
from fakes.model_wire import ERROR_STATUSES, api_error  # noqa: E402
from unified_icc import ProvidersSettings  # noqa: E402
from unified_icc.providers import Mode, ProviderRegistry  # noqa: E402
from unified_icc.terminal.prompt_patterns import captured_version  # noqa: E402

STILL_SECONDS = 6.0
WITHIN_SECONDS = 600.0


@dataclass
class Pane:
    cli: str
    socket: str
    home: Path
    apis: FakeModelAPIs

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        return done.stdout

    async def still(self) -> None:
        """Until the screen has not changed for STILL_SECONDS (or WITHIN_SECONDS passed)."""
        deadline = time.monotonic() + WITHIN_SECONDS
        last, since = "", time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            screen = self.tmux("capture-pane", "-p")
            if screen != last:
                last, since = screen, time.monotonic()
            elif time.monotonic() - since >= STILL_SECONDS:
                return

    def save(self, name: str) -> None:
        folder = REPO / "tests/fixtures/screens" / self.cli / str(captured_version(self.cli))
        (folder / f"{name}.txt").write_text(self.tmux("capture-pane", "-p"))
        (folder / f"{name}.ansi").write_text(self.tmux("capture-pane", "-p", "-e"))
        print(f"{self.cli}: {folder / name}.txt ({len(self.apis.requests_for(self.cli))} "
              "model requests)")  # fmt: skip


@contextlib.asynccontextmanager
async def started(cli: str, args: Sequence[str], *, retries: bool = True) -> AsyncIterator[Pane]:
    """The CLI with ``args`` in a fresh HOME and tmux server, once its screen is still."""
    (REPO / ".artifacts").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=REPO / ".artifacts") as scratch:
        home, work = Path(scratch) / "home", Path(scratch) / "work"
        home.mkdir()
        work.mkdir()
        async with FakeModelAPIs() as apis:
            env = seed_agent_home(home, trusted_dirs=[work], apis=apis, retries=retries)[cli]
            pane = Pane(cli, f"capture-{os.getpid()}-{cli}", home, apis)
            exports = shlex.join(f"{k}={v}" for k, v in {"HOME": str(home), **env}.items())
            command = shlex.join([str(agent_cli(cli)), *args])
            pane.tmux("new-session", "-d", "-x", "120", "-y", "40", "-c", str(work),
                      f"env {exports} {command}")  # fmt: skip
            try:
                await pane.still()
                yield pane
            finally:
                pane.tmux("kill-server")
                await kill_home_processes(home)


async def errors(cli: str) -> None:
    chosen = [int(s) for s in os.environ.get("STATUSES", "").split(",") if s]
    for status in chosen or ERROR_STATUSES[cli]:
        async with started(cli, (), retries=False) as pane:
            pane.apis.refuse(cli, api_error(cli, status))  # type: ignore[arg-type]
            pane.tmux("send-keys", "-l", "hello")
            await asyncio.sleep(1.0)
            pane.tmux("send-keys", "Enter")
            await asyncio.sleep(2.0)
            await pane.still()
            pane.save(f"e-{status}")
            _keep_transcript(cli, pane.home, f"api-error-{status}.jsonl")


async def modes(cli: str) -> None:
    provider = ProviderRegistry(ProvidersSettings()).get(cli)
    for mode in sorted(provider.modes - {Mode.NORMAL}):
        argv = provider.launch(mode, session_id=None).argv[1:]
        async with started(cli, argv) as pane:
            pane.save(f"m-{mode.value}")
    if provider.mode_cycle:
        argv = provider.launch(Mode.NORMAL, session_id=None).argv[1:]
        async with started(cli, argv) as pane:
            for presses in range(1, len(provider.mode_cycle) + 1):
                pane.tmux("send-keys", provider.mode_cycle_key)
                await pane.still()
                pane.save(f"m-shift-tab-{presses}")


def _keep_transcript(cli: str, home: Path, name: str) -> None:
    """Save the session's transcript as a parser fixture, its temp paths made generic."""
    where = {"claude": ".claude/projects", "codex": ".codex/sessions", "gemini": ".gemini/tmp"}
    found = sorted((home / where[cli]).rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    found = [p for p in found if "history" not in p.name and "session_index" not in p.name]
    if found:
        text = found[-1].read_text().replace(str(home.parent), "/srv/capture")
        (REPO / "tests/fixtures/transcripts" / cli / name).write_text(text)


async def main(scene: str, clis: list[str]) -> None:
    run = {"errors": errors, "modes": modes}[scene]
    for cli in clis or ["claude", "codex", "gemini"]:
        await run(cli)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
