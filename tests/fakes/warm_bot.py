"""The cclark command, started again and again without paying for its imports each time.

``python warm_bot.py`` imports cclark (and so lark-oapi, about 5 s on a test machine) once,
then reads one line per start from stdin: a JSON object with the log file to write to, the
environment and the working folder. For each it forks a child that runs exactly what
``python -m cclark`` runs (``cclark.cli.main``, and exits the same way) in that environment,
and prints the child's pid. One serves every bot of a test run (support.WarmBots), so each
start costs the bot's start-up, not the interpreter's and its imports; the children are
reaped by the kernel (SIGCHLD ignored here, restored in each child).
"""

from __future__ import annotations

import json
import os
import signal
import sys

import cclark.cli
import cclark.main  # the expensive part (lark-oapi), done once


def _child(log: str, env: dict[str, str], cwd: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the bot waits for its own subprocesses
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
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
            _child(request["log"], request["env"], request["cwd"])
        print(pid, flush=True)


if __name__ == "__main__":
    main()
