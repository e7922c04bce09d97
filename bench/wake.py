"""What sleeping costs the next message: ``.venv/bin/python bench/wake.py``.

Drives the gateway with the pinned real CLIs (Claude, Codex, Gemini) against the fake model
APIs of the tests, on a private tmux server in a temp HOME and config folder, and prints per
CLI the median of a few rounds of:

- awake: send_to_window on an idle agent -> the agent's reply delivered;
- asleep: the same message after sleep_window -> the reply delivered (the CLI resumed with
  its session, its input box awaited, the text typed and submitted, the model asked);
- sleep: sleep_window itself (hang-up to a dead pane).

Figures vary with the machine; docs/performance.md keeps the ones measured and where.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.agent_homes import (  # noqa: E402
    INHERITED_ENV_TO_DROP,
    agent_cli,
    kill_home_processes,
    seed_agent_home,
)
from fakes.model_apis import FakeModelAPIs  # noqa: E402
from unified_icc import (  # noqa: E402
    AgentMessageEvent,
    Config,
    GatewaySettings,
    ProviderSettings,
    ProvidersSettings,
    UnifiedICC,
)

ROUNDS = 5


async def _replied(seen: list[str], needle: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not any(needle in text for text in seen):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no reply with {needle!r}")
        await asyncio.sleep(0.01)


async def _bench(provider: str, gateway: UnifiedICC, folder: Path, seen: list[str]) -> dict:
    window = (await gateway.create_window(folder, provider)).window_id
    awake, asleep, sleeping = [], [], []
    for round_ in range(ROUNDS):
        started = time.monotonic()
        await gateway.send_to_window(window, f"awake {round_}")
        await _replied(seen, f"you said 'awake {round_}'")
        awake.append(time.monotonic() - started)
        started = time.monotonic()
        while not await gateway.sleep_window(window):
            await asyncio.sleep(0.05)  # the turn's screen is still settling
        sleeping.append(time.monotonic() - started)
        started = time.monotonic()
        await gateway.send_to_window(window, f"asleep {round_}")
        await _replied(seen, f"you said 'asleep {round_}'")
        asleep.append(time.monotonic() - started)
    await gateway.kill_window(window)
    return {"awake": statistics.median(awake), "asleep": statistics.median(asleep),
            "sleep": statistics.median(sleeping)}  # fmt: skip


async def main() -> None:
    for name in INHERITED_ENV_TO_DROP:
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bench-wake-") as tmp:
        root = Path(tmp)
        home, folder = root / "home", root / "work"
        home.mkdir()
        folder.mkdir()
        os.environ.update(HOME=str(home), TMUX_TMPDIR=str(root))
        async with FakeModelAPIs() as apis:
            env = seed_agent_home(home, trusted_dirs=[folder], apis=apis)
            providers = ProvidersSettings(**{name: ProviderSettings(command=str(agent_cli(name)),
                                                                    env=env[name])
                                             for name in ("claude", "codex", "gemini")})  # fmt: skip
            settings = GatewaySettings(tmux_session="bench", tmux_socket=f"bench-{os.getpid()}",
                                       workspace_roots=(folder,), poll_interval=0.2)  # fmt: skip
            config = Config(config_dir=root / "icc", gateway=settings, providers=providers)
            seen: list[str] = []

            async def collect(event: AgentMessageEvent) -> None:
                seen.extend(m.text for m in event.messages)

            gateway = UnifiedICC(config)
            gateway.on_message(collect)
            try:
                async with gateway:
                    for provider in ("claude", "codex", "gemini"):
                        figures = await _bench(provider, gateway, folder, seen)
                        print(f"{provider:7s} reply awake p50 {figures['awake']:.2f} s; after "
                              f"sleep p50 {figures['asleep']:.2f} s "
                              f"(+{figures['asleep'] - figures['awake']:.2f} s); "
                              f"sleep_window p50 {figures['sleep']:.2f} s")  # fmt: skip
            finally:
                os.system(f"tmux -L bench-{os.getpid()} kill-server 2>/dev/null")  # noqa: S605
                await kill_home_processes(home)


if __name__ == "__main__":
    asyncio.run(main())
