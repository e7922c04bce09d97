#!/usr/bin/env python3
"""A scripted stand-in for Claude Code's plumbing: hooks from --settings, a JSONL transcript.

Launched as the Claude provider's command, it takes ``--settings``, ``--session-id`` and
``--resume`` like the real CLI, runs the declared hooks with the real payload shapes, and
writes transcript lines like Claude's to ``$HOME/.claude/projects/<encoded cwd>/<id>.jsonl``.
Its screen mimics Claude's layout (history, input box, footer) closely enough for the real
screen parser. Submissions: plain text gets ``FAKE-REPLY: you said '<text>'``; ``/clear``
starts a new session; ``PARTS: n`` writes n reply parts, stopping after the first until the
file named by $FAKE_CLAUDE_GATE exists (to cut a turn in two); ``ASK: <cmd>`` shows Claude's
Bash permission panel, where 1 or 2 run the command and 3 or Escape refuse; ``PLAN: <plan>``
shows the plan approval panel, where 3 ("No, keep planning") returns to the input box for the
person's feedback; ``LATE: <text>`` replies, runs the Stop hook and draws its idle box before
it writes the prompt and the reply to the transcript, LATE_WRITE seconds later (the real CLI
can write both after its Stop hook on a busy machine); ``WAIT: <text>`` works until Escape,
which stops it and, like Claude, puts the text back in the input box a moment after the
spinner stops (a first Escape then shows "Esc again to clear", a second clears it; text typed
meanwhile is appended to it); ``/exit`` quits.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from fake_agent import Agent, record, run_tui, show

RULE = "\u2500" * 80
SHORTCUTS = "  ? for shortcuts \u00b7 \u2190 for agents"
WORKING = "  esc to interrupt \u00b7 \u2190 for agents"
CLEAR_HINT = "  Esc again to clear"
RESTORE_DELAY = 0.6  # seconds between the spinner stopping and the box being refilled
LATE_WRITE = 1.5  # seconds between the Stop hook and a LATE: turn's transcript lines


class FakeClaude(Agent):
    def __init__(self, argv: list[str]) -> None:
        super().__init__()
        settings = _option(argv, "--settings")  # none in a smoke test: no hooks then
        self.settings = json.loads(Path(settings).read_text()) if settings else {}
        resume = _option(argv, "--resume")
        self.session_id = resume or _option(argv, "--session-id") or str(uuid.uuid4())
        self.source = "resume" if resume else "startup"
        self.parent: str | None = None
        self.history: list[str] = []
        self.asking: str | None = None
        self.planning: str | None = None
        self.working: str | None = None  # the WAIT: text being worked on
        self.box = ""  # what the input box holds (only a restored prompt, here)
        self.clear_armed = False

    def greet(self) -> None:
        self.draw()

    def draw(self) -> None:
        """Redraw the whole screen: recent history, then the input box or the open panel."""
        if self.planning is not None:
            bottom = self.plan_panel()
        elif self.asking is not None:
            bottom = self.panel()
        elif self.working is not None:
            bottom = ["\u273b Thinking\u2026", RULE, "\u276f\u00a0", RULE, WORKING]
        else:
            footer = CLEAR_HINT if self.clear_armed else SHORTCUTS
            bottom = [RULE, f"\u276f\u00a0{self.box}", RULE, footer]
        show("\x1b[2J\x1b[H" + "\n".join([*self.history[-20:], *bottom]))

    def panel(self) -> list[str]:
        return [
            RULE,
            " Bash command",
            f"   {self.asking}",
            "   Run requested command",
            " Do you want to proceed?",
            " \u276f 1. Yes",
            "   2. Yes, and always allow access to this folder from this project",
            "   3. No",
            "",
            " Esc to cancel \u00b7 Tab to amend \u00b7 ctrl+e to explain",
        ]

    def plan_panel(self) -> list[str]:
        return [
            RULE,
            " Ready to code?",
            "",
            " Here is Claude's plan:",
            f"   {self.planning}",
            "",
            " Would you like to proceed?",
            "",
            " \u276f 1. Yes, and auto-accept edits",
            "   2. Yes, and manually approve edits",
            "   3. No, keep planning",
            "",
            " Esc to cancel",
        ]

    def feed(self, data: bytes) -> None:
        if self.planning is not None:
            self.answer_plan(data[:1])
            return
        if self.working is not None:
            if data == b"\x1b":
                self.interrupt()
            return
        if self.box and data == b"\x1b":
            self.box, self.clear_armed = ("", False) if self.clear_armed else (self.box, True)
            self.draw()
            return
        if self.asking is None:
            super().feed(data)
            return
        choice = data[:1]
        if choice in (b"1", b"2"):
            done = subprocess.run(self.asking, shell=True, check=False, capture_output=True)
            self.history += [f"\u25cf Bash({self.asking})", f"  \u23bf  exit {done.returncode}"]
        elif choice in (b"3", b"\x1b"):
            self.history += ["  \u23bf  Interrupted \u00b7 What should Claude do instead?"]
        else:
            return
        record(event="answer", choice=choice.decode())
        self.asking = None
        self.draw()

    def answer_plan(self, choice: bytes) -> None:
        if choice not in (b"1", b"2", b"3", b"\x1b"):
            return
        record(event="plan", choice=choice.decode())
        rejected = choice in (b"3", b"\x1b")
        outcome = "  \u23bf  User rejected Claude's plan" if rejected else "\u25cf Plan approved"
        self.history.append(outcome)
        self.planning = None
        self.draw()

    @property
    def transcript(self) -> Path:
        folder = re.sub(r"[^A-Za-z0-9]", "-", os.getcwd())
        return Path.home() / ".claude" / "projects" / folder / f"{self.session_id}.jsonl"

    def hook(self, name: str, **fields: object) -> None:
        payload = {"session_id": self.session_id, "transcript_path": str(self.transcript),
                   "cwd": os.getcwd(), "hook_event_name": name, **fields}  # fmt: skip
        for group in self.settings.get("hooks", {}).get(name, []):
            for hook in group["hooks"]:
                subprocess.run(hook["command"], shell=True, input=json.dumps(payload).encode(),
                               check=False, timeout=30)  # fmt: skip

    def write(self, kind: str, message: dict[str, object]) -> None:
        entry_id = str(uuid.uuid4())
        entry = {"parentUuid": self.parent, "type": kind, "uuid": entry_id,
                 "sessionId": self.session_id, "cwd": os.getcwd(), "message": message}  # fmt: skip
        self.transcript.parent.mkdir(parents=True, exist_ok=True)
        with self.transcript.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
        self.parent = entry_id

    def reply(self, text: str) -> None:
        self.history.append(f"\u25cf {text}")
        self.write("assistant", {"role": "assistant", "content": [{"type": "text", "text": text}]})

    def interrupt(self) -> None:
        """Escape while working: stop, then refill the input box with the stopped prompt."""
        text, self.working = self.working or "", None
        record(event="interrupted", text=text)
        self.history.append("  \u23bf  Interrupted \u00b7 What should Claude do instead?")
        interrupted = [{"type": "text", "text": "[Request interrupted by user]"}]
        self.write("user", {"role": "user", "content": interrupted})
        self.draw()
        time.sleep(RESTORE_DELAY)
        self.box = text
        self.draw()

    def started(self) -> None:
        self.hook("SessionStart", source=self.source)

    def submit(self) -> None:
        # Claude sends what its box holds: a restored prompt, then what was typed after it.
        self.line[:0] = self.box.encode()
        self.box, self.clear_armed = "", False
        super().submit()

    def submitted(self, text: str) -> None:
        self.history.append(f"\u276f {text.splitlines()[0] if text else ''}")
        self.respond(text)
        self.draw()

    def respond(self, text: str) -> None:
        if text == "/exit":
            self.hook("SessionEnd", reason="prompt_input_exit")
            raise SystemExit(0)
        if text == "/clear":
            self.hook("SessionEnd", reason="clear")
            self.session_id, self.parent = str(uuid.uuid4()), None
            self.hook("SessionStart", source="clear")
            return
        self.hook("UserPromptSubmit", prompt=text)
        if text.startswith("LATE: "):
            self.reply_late(text)
            return
        self.write("user", {"role": "user", "content": text})
        parts = re.fullmatch(r"PARTS: (\d+)", text)
        if text.startswith("PLAN: "):
            self.planning = text[6:]
            return
        if text.startswith("WAIT: "):
            self.working = text
            return
        if text.startswith("ASK: "):
            self.asking = text[5:]
            self.hook("PermissionRequest", tool_name="Bash", tool_input={"command": self.asking})
            return
        if parts:
            self.reply_in_parts(int(parts.group(1)))
        else:
            self.reply(f"FAKE-REPLY: you said '{text}'")
        self.hook("Stop", stop_hook_active=False)

    def reply_late(self, text: str) -> None:
        reply = f"FAKE-REPLY: you said '{text}'"
        self.history.append(f"\u25cf {reply}")
        self.hook("Stop", stop_hook_active=False)

        def write_both() -> None:
            self.write("user", {"role": "user", "content": text})
            self.write("assistant", {"role": "assistant",
                                     "content": [{"type": "text", "text": reply}]})  # fmt: skip

        threading.Timer(LATE_WRITE, write_both).start()

    def reply_in_parts(self, count: int) -> None:
        gate = Path(os.environ["FAKE_CLAUDE_GATE"])
        for part in range(1, count + 1):
            self.reply(f"part {part} of {count}")
            record(event="part", number=part)
            while part == 1 and not gate.exists():
                time.sleep(0.05)


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1] if name in argv[:-1] else ""


if __name__ == "__main__":
    run_tui(FakeClaude(sys.argv[1:]))
