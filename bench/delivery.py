"""How fast the bot is, measured on the real thing: ``.venv/bin/python bench/delivery.py``.

Starts the real bot (``python -m cclark``) against the Feishu emulator, with real bash windows
on a private tmux server, in a temp HOME and config folder, and prints:

- output latency (p50/p90): a line written by the shell -> the Feishu request showing it
  reaching the emulator (a card's create or patch, or a CardKit operation on a streamed
  one), beside the tmux floor (the line written -> it is in the pane's output file, read by
  a tight loop);
- input latency (p50): a message posted to Feishu -> its text in the pane's output;
- tmux spawns per second and CPU % of the idle bot (its tmux clients included), at 1 and at
  20 windows; the bot's RSS beside the ``import lark_oapi`` floor;
- chat B's output latency while Feishu answers chat A's requests in 3 s;
- tap latency (p50/p90): a tap on a card button -> the bot's answer (toast and card) in the
  SDK's ack, quiet and while chat A's Feishu is slow and its shell prints.

Figures vary with the machine; docs/performance.md keeps the ones measured and where.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feishu_emulator import ClientConfig, Emulator

ALICE = "ou_bench_alice_000000000000000000"
LINES = 40
IDLE_SECONDS = 10.0
_STAMPED = re.compile(r"L(\d+) (\d{16,20})\b")  # in card JSON a line follows a literal \n


class Rig:
    """The temp world, the emulator and the bot process."""

    def __init__(self, root: Path, emu: Emulator) -> None:
        self.root, self.emu = root, emu
        self.home, self.config_dir = root / "home", root / "icc"
        self.workspace, self.socket = root / "workspace", f"bench-{secrets.token_hex(4)}"
        self.spawns = root / "tmux-spawns.log"
        for folder in (self.home, self.config_dir, self.workspace, root / "bin"):
            folder.mkdir(parents=True, exist_ok=True)
        real_tmux = shutil.which("tmux")
        shim = root / "bin" / "tmux"  # counts every tmux client the bot starts
        shim.write_text(f'#!/bin/sh\necho >> {self.spawns}\nexec {real_tmux} "$@"\n')
        shim.chmod(0o755)
        self.env = {**os.environ, "HOME": str(self.home), "UNIFIED_ICC_DIR": str(self.config_dir),
                    "TMUX_TMPDIR": str(root), "PATH": f"{root / 'bin'}:{os.environ['PATH']}",
                    "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                    "LANG": "C.UTF-8"}  # fmt: skip
        self.env.pop("TMUX", None)
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        app = self.emu.app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            health_port = probe.getsockname()[1]
        config = {
            "gateway": {"tmux_session": "bench", "tmux_socket": self.socket,
                        "workspace_roots": [str(self.workspace)]},
            "providers": {"shell": {"command": "bash --noprofile --norc"}},
            "feishu": {"apps": [{"name": "main", "app_id": app.app_id,
                                 "app_secret": app.app_secret, "domain": self.emu.url,
                                 "allowed_users": [ALICE]}]},
            "health": {"host": "127.0.0.1", "port": health_port},
        }  # fmt: skip
        path = self.config_dir / "config.yaml"
        path.write_text(json.dumps(config))
        path.chmod(0o600)

    def create_windows(self, chats: list[str]) -> None:
        script = (
            "import asyncio, sys\n"
            "from unified_icc import ChannelId, UnifiedICC, load_config\n"
            "async def main():\n"
            "    async with UnifiedICC(load_config()) as gateway:\n"
            "        for chat in sys.argv[2:]:\n"
            "            folder = __import__('pathlib').Path(sys.argv[1]) / chat\n"
            "            folder.mkdir(exist_ok=True)\n"
            "            await gateway.create_window(folder, 'shell',\n"
            "                channel_id=ChannelId(f'feishu:main:{chat}'))\n"
            "asyncio.run(main())\n"
        )
        cmd = [sys.executable, "-c", script, str(self.workspace), *chats]
        subprocess.run(cmd, env=self.env, check=True)

    def output_file(self, chat: str) -> Path:
        state = json.loads((self.config_dir / "state.json").read_text())
        record = next(w for w in state["windows"] if str(self.workspace / chat) == w["cwd"])
        return Path(record["transcript_path"])

    def start_bot(self) -> None:
        log = (self.root / "cclark.log").open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "cclark"], env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def cpu_seconds(self) -> float:
        """The bot's CPU time so far, its finished children (tmux clients) included."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        return kb / 1024


class Tail:
    """Reads a pane's output file in a tight loop; notes when each stamped line appears."""

    def __init__(self, path: Path) -> None:
        self.path, self.seen, self._stop = path, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seen: dict[int, float] = {}

    def __enter__(self) -> Tail:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with self.path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            buffer = b""
            while not self._stop.is_set():
                chunk = handle.read()
                if not chunk:
                    time.sleep(0.0005)
                    continue
                now = time.time()
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    for number, _ in _STAMPED.findall(line.decode(errors="replace")):
                        self.seen.setdefault(int(number), now)


def first_requests(emu: Emulator, chat: str, since: int) -> dict[int, tuple[float, float]]:
    """Per stamped line written after request ``since``: (when it was written, when a request
    first showed it), in seconds. Lines of earlier runs (a card finished late) are left out."""
    found: dict[int, tuple[float, float]] = {}
    sent = [s for s in emu.sent if s.chat_id == chat]
    began = max((s.at / 1000 for s in sent if s.seq <= since), default=0.0)
    # A streamed turn card's text travels in CardKit operations on the entity its message shows.
    entities = {s.card_id for s in sent if s.card_id is not None}
    shown = [(r.content, r.at) for r in sent if r.seq > since] + [
        (op.content, op.at) for op in emu.card_ops() if op.card_id in entities
        and op.at / 1000 >= began
    ]  # fmt: skip
    for content, at in sorted(shown, key=lambda pair: pair[1]):
        for number, stamp in _STAMPED.findall(content):
            if int(stamp) / 1e9 >= began:
                found.setdefault(int(number), (int(stamp) / 1e9, at / 1000))
    return found


async def wait_for(predicate: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {within}s")
        await asyncio.sleep(0.05)
    return result


def stamped_loop(count: int, pause: float, tag: str = "") -> str:
    return (f"for i in $(seq 1 {count}); do echo \"{tag}L$i $(date +%s%N)\"; "
            f"sleep {pause}; done")  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def output_latency(rig: Rig, chat: str) -> tuple[list[float], list[float]]:
    since = rig.emu.sent[-1].seq if rig.emu.sent else 0
    with Tail(rig.output_file(chat)) as tail:
        await rig.emu.post_text(stamped_loop(LINES, 0.15), chat_id=chat, sender_open_id=ALICE)
        await wait_for(lambda: len(first_requests(rig.emu, chat, since)) >= LINES, 60, "lines")
        found = first_requests(rig.emu, chat, since)
        await wait_for(lambda: len(tail.seen) >= LINES, 10, "lines in the file")
    chat_ms = [(shown - written) * 1000 for written, shown in found.values()]
    stamps = {n: w for n, (w, _) in found.items()}
    floor_ms = [(tail.seen[n] - stamps[n]) * 1000 for n in stamps if n in tail.seen]
    return chat_ms, floor_ms


async def command_latency(rig: Rig, chat: str, rounds: int = 15) -> list[float]:
    """A command printing one line, as a person sends them: the line written -> the first
    request showing it (each command is a turn of its own: a card is created)."""
    results = []
    for n in range(1, rounds + 1):
        since = rig.emu.sent[-1].seq if rig.emu.sent else 0
        command = f'echo "L{n} $(date +%s%N)"'
        await rig.emu.post_text(command, chat_id=chat, sender_open_id=ALICE)
        await wait_for(lambda n=n, s=since: n in first_requests(rig.emu, chat, s), 10, "line")
        written, shown = first_requests(rig.emu, chat, since)[n]
        results.append((shown - written) * 1000)
        await asyncio.sleep(0.5)
    return results


async def input_latency(rig: Rig, chat: str, rounds: int = 10) -> list[float]:
    results = []
    path = rig.output_file(chat)
    for n in range(rounds):
        marker = f"typed-{n}-{secrets.token_hex(3)}"
        start = time.time()
        await rig.emu.post_text(f"echo {marker}", chat_id=chat, sender_open_id=ALICE)
        await wait_for(lambda m=marker: m in path.read_text(errors="replace"), 10, "the text")
        results.append((time.time() - start) * 1000)
        await asyncio.sleep(0.3)
    return results


async def tap_latency(rig: Rig, chat: str, rounds: int = 15) -> list[float]:
    """#new in a chat without a window, then a tap on its card's Cancel: the tap pushed ->
    the ack carrying the bot's answer, as Feishu measures its 3 s."""
    results = []
    for _ in range(rounds):
        since = rig.emu.sent[-1].seq if rig.emu.sent else 0
        await rig.emu.post_text("#new", chat_id=chat, sender_open_id=ALICE)
        card = await wait_for(lambda s=since: next(
            (m for m in rig.emu.sent if m.seq > s and m.chat_id == chat
             and m.msg_type == "interactive"), None), 10, "the wizard's card")  # fmt: skip
        cancel = _button(card.body(), "Cancel")
        clicked = await rig.emu.click(card.message_id, cancel, operator_open_id=ALICE)
        if not clicked.answered or clicked.seconds is None:
            raise RuntimeError("a tap was not answered within 3 s")
        results.append(clicked.seconds * 1000)
        await asyncio.sleep(0.2)
    return results


def _button(card: dict[str, Any], label: str) -> dict[str, Any]:
    for element in card["body"]["elements"]:
        for column in element.get("columns", []):
            for button in column["elements"]:
                if button["text"]["content"] == label:
                    return dict(button["behaviors"][0]["value"])
    raise LookupError(label)


async def idle(rig: Rig) -> tuple[float, float]:
    """tmux clients started per second and CPU % of the idle bot, over IDLE_SECONDS."""
    await asyncio.sleep(2.0)  # let the last turn settle
    spawns = len(rig.spawns.read_text().splitlines()) if rig.spawns.exists() else 0
    cpu, start = rig.cpu_seconds(), time.monotonic()
    await asyncio.sleep(IDLE_SECONDS)
    elapsed = time.monotonic() - start
    spawned = (len(rig.spawns.read_text().splitlines()) if rig.spawns.exists() else 0) - spawns
    return spawned / elapsed, (rig.cpu_seconds() - cpu) / elapsed * 100


def lark_floor_mb() -> float:
    code = (
        "import lark_oapi, pathlib\n"
        "s = pathlib.Path('/proc/self/status').read_text()\n"
        "print(next(l for l in s.splitlines() if l.startswith('VmRSS')).split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


async def main() -> None:
    report: list[str] = []
    keep = os.environ.get("BENCH_KEEP")  # a folder to keep the run's files in, for a look
    with tempfile.TemporaryDirectory(prefix="cclark-bench-", dir=keep) as folder:
        async with Emulator(client_config=ClientConfig.fast()) as emu:
            rig = Rig(Path(folder), emu)
            rig.write_config()
            chats = [f"oc_bench_{i:02d}" for i in range(20)]
            rig.create_windows(chats[:1])
            rig.start_bot()
            try:
                await emu.wait_connected(within=60)
                one = await command_latency(rig, chats[0])
                chat_ms, floor_ms = await output_latency(rig, chats[0])
                report.append(f"output, a command's line  p50 {statistics.median(one):6.1f} ms  "
                              f"p90 {percentile(one, 0.9):6.1f} ms")  # fmt: skip
                report.append(f"output, a line each 150 ms p50 {statistics.median(chat_ms):6.1f} "
                              f"ms  p90 {percentile(chat_ms, 0.9):6.1f} ms   (tmux floor p50 "
                              f"{statistics.median(floor_ms):.1f} ms, p90 "
                              f"{percentile(floor_ms, 0.9):.1f} ms)")  # fmt: skip
                typed = await input_latency(rig, chats[0])
                report.append(f"input latency    p50 {statistics.median(typed):6.1f} ms")
                taps = await tap_latency(rig, chats[19])
                report.append(f"tap answered     p50 {statistics.median(taps):6.1f} ms  "
                              f"p90 {percentile(taps, 0.9):6.1f} ms")  # fmt: skip
                spawns, cpu = await idle(rig)
                report.append(f"idle, 1 window   {spawns:5.1f} tmux spawns/s  CPU {cpu:5.1f} %")
                report.append(f"RSS              {rig.rss_mb():6.1f} MB   (import lark_oapi "
                              f"alone: {lark_floor_mb():.1f} MB)")  # fmt: skip
            finally:
                rig.stop()
            rig.create_windows(chats)
            rig.start_bot()
            try:
                await emu.wait_connected(count=2, within=60)
                spawns, cpu = await idle(rig)
                report.append(f"idle, 20 windows {spawns:5.1f} tmux spawns/s  CPU {cpu:5.1f} %")
                quiet_ms, _ = await output_latency(rig, chats[2])
                emu.slow_chat(chats[1], 3.0)
                await emu.post_text(stamped_loop(LINES, 0.1, "A"), chat_id=chats[1],
                                    sender_open_id=ALICE)  # fmt: skip
                loaded_ms, _ = await output_latency(rig, chats[2])
                busy_taps = await tap_latency(rig, "oc_bench_taps", rounds=10)
                ratio = statistics.median(loaded_ms) / statistics.median(quiet_ms)
                report.append(f"chat B output    p50 {statistics.median(quiet_ms):6.1f} ms; "
                              f"with chat A's Feishu at 3 s/request p50 "
                              f"{statistics.median(loaded_ms):.1f} ms (x{ratio:.2f})")  # fmt: skip
                report.append(f"tap answered while chat A's Feishu is slow  p50 "
                              f"{statistics.median(busy_taps):6.1f} ms  p90 "
                              f"{percentile(busy_taps, 0.9):6.1f} ms")  # fmt: skip
                emu.slow_chat(chats[1], 0)
            finally:
                rig.stop()
    print("\n".join(report))


if __name__ == "__main__":
    asyncio.run(main())
