#!/usr/bin/env python3
"""A scripted stand-in for an agent TUI, run as a tmux window's own command.

Like the real CLIs it puts the terminal in raw mode and asks for bracketed paste. It records
every submission (text ended by Enter outside a paste) and every special key as one JSON line
in $FAKE_AGENT_LOG, and echoes ``got: <first line>`` on screen. Submitting ``exit N`` exits
with status N, so tests can watch an agent die.
"""

from __future__ import annotations

import json
import os
import sys
import tty

PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"
KEYS = {b"\x1b[A": "Up", b"\x1b[B": "Down", b"\x1b[C": "Right", b"\x1b[D": "Left"}
CONTROL = {0x03: "C-c", 0x04: "C-d", 0x15: "C-u", 0x7F: "BSpace", 0x09: "Tab"}


def record(**entry: object) -> None:
    with open(os.environ["FAKE_AGENT_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")


def show(text: str) -> None:
    sys.stdout.write(text.replace("\n", "\r\n"))
    sys.stdout.flush()


class Agent:
    def __init__(self) -> None:
        self.pending = b""
        self.line = bytearray()
        self.pasting = False

    def feed(self, data: bytes) -> None:
        self.pending += data
        while self.pending:
            if not self.step():
                return

    def step(self) -> bool:
        """Consume one unit of input; False when more bytes are needed."""
        if self.pasting:
            end = self.pending.find(PASTE_END)
            if end < 0:
                keep = len(PASTE_END) - 1
                self.line += self.pending[:-keep] if len(self.pending) > keep else b""
                self.pending = self.pending[-keep:] if len(self.pending) > keep else self.pending
                return False
            self.line += self.pending[:end].replace(b"\r", b"\n")
            self.pending = self.pending[end + len(PASTE_END) :]
            self.pasting = False
            return True
        head = self.pending[:1]
        if head == b"\x1b":
            return self.escape()
        self.pending = self.pending[1:]
        if head == b"\r":
            self.submit()
        elif head[0] in CONTROL:
            record(event="key", key=CONTROL[head[0]])
        else:
            self.line += head
        return True

    def escape(self) -> bool:
        if self.pending.startswith(PASTE_START):
            self.pending = self.pending[len(PASTE_START) :]
            self.pasting = True
            return True
        for sequence, name in KEYS.items():
            if self.pending.startswith(sequence):
                self.pending = self.pending[len(sequence) :]
                record(event="key", key=name)
                return True
        if len(self.pending) == 1:
            self.pending = b""
            record(event="key", key="Escape")
            return True
        if PASTE_START.startswith(self.pending) or any(s.startswith(self.pending) for s in KEYS):
            return False
        self.pending = self.pending[1:]
        record(event="key", key="Escape")
        return True

    def submit(self) -> None:
        text = self.line.decode("utf-8", errors="replace")
        self.line = bytearray()
        record(event="submit", text=text)
        self.submitted(text)

    def submitted(self, text: str) -> None:
        """Echo the first line; ``exit N`` exits with status N."""
        first = text.split("\n", 1)[0]
        show(f"got: {first[:120]}\n")
        if text.startswith("exit "):
            raise SystemExit(int(text.split()[1]))
        show("fake> ")

    def greet(self) -> None:
        show("\x1b[1;32mfake agent ready\x1b[0m\nfake> ")

    def started(self) -> None:
        """Hook for subclasses: the terminal is ready."""


def run_tui(agent: Agent) -> None:
    fd = sys.stdin.fileno()
    # setraw flushes pending input, so "started" is recorded only once input is safe to send.
    tty.setraw(fd)
    show("\x1b[?2004h")
    agent.greet()
    watched = [name for name in os.environ.get("FAKE_AGENT_SHOW_ENV", "").split(",") if name]
    record(
        event="started",
        pid=os.getpid(),
        cwd=os.getcwd(),
        argv=sys.argv[1:],
        env={name: os.environ.get(name) for name in watched},
    )
    agent.started()
    while True:
        data = os.read(fd, 65536)
        if not data:
            return
        agent.feed(data)


if __name__ == "__main__":
    run_tui(Agent())
