"""The cclark command, started again and again without paying for its imports each time.

``python warm_bot.py`` imports cclark (and so lark-oapi, about 4 s) once, then reads one line
per start from stdin: a JSON object with the log file to write to. For each it forks a child
that runs exactly what ``python -m cclark`` runs (``cclark.cli.main``, and exits the same
way) with the environment this process was started with, and prints the child's pid. Tests
that kill the bot many times use it, so that each restart costs the bot's start-up, not the
interpreter's; the children are reaped by the kernel (SIGCHLD ignored here, restored in each
child).
"""

from __future__ import annotations

import json
import os
import signal
import sys

import cclark.cli  # the expensive part, done once


def _child(log: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the bot waits for its own subprocesses
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.argv = [sys.argv[0]]
    # Exit as ``python -m cclark`` does, through the interpreter's own shutdown.
    raise SystemExit(cclark.cli.main([]))


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # dead children vanish at once
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request["log"])
        print(pid, flush=True)


if __name__ == "__main__":
    main()
