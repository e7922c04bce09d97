"""The ``unified-icc`` command: look at and drive the gateway's windows from a terminal.

Owns argument parsing and terminal output; every action goes through UnifiedICC.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from unified_icc.config import Config, load_config
from unified_icc.errors import UnifiedICCError
from unified_icc.gateway import UnifiedICC
from unified_icc.hook.record import run_hook
from unified_icc.ids import parse_window_id
from unified_icc.window_views import Survey

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 gateway error, 2 usage error)."""
    stream = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "hook":
        return run_hook(args.events, args.record)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # libtmux logs whole command lines at DEBUG, which include agent env values and user text.
    logging.getLogger("libtmux").setLevel(logging.WARNING)
    try:
        config = load_config(args.config_dir)
        return asyncio.run(_dispatch(args, config, stream))
    except UnifiedICCError as exc:
        print(f"unified-icc: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"unified-icc: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; stop quietly like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unified-icc",
        description="Run AI coding CLIs in tmux windows and drive them (the cclark gateway).",
    )
    parser.add_argument(
        "--config-dir", help="config folder (default $UNIFIED_ICC_DIR or ~/.unified-icc)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("status", help="show the gateway's windows, orphans and providers (default)")
    new = sub.add_parser("new", help="open an agent window in a directory")
    new.add_argument("path")
    new.add_argument("--provider", default="claude", help="claude, codex, gemini or shell")
    new.add_argument("--mode", default="normal", help="normal or yolo")
    send = sub.add_parser("send", help="type text into a window and press Enter")
    send.add_argument("window_id")
    send.add_argument("text")
    key = sub.add_parser("key", help="press one named key in a window (Escape, Enter, C-c, 1...)")
    key.add_argument("window_id")
    key.add_argument("key")
    capture = sub.add_parser("capture", help="print a window's screen")
    capture.add_argument("window_id")
    capture.add_argument("--ansi", action="store_true", help="keep colours")
    kill = sub.add_parser("kill", help="kill a window this gateway created")
    kill.add_argument("window_id")
    hook = sub.add_parser("hook", help="(run by agent hooks) append stdin's hook JSON")
    hook.add_argument("--events", required=True, help="the gateway's hook events file")
    hook.add_argument("--record", default="", help="the window's record id")
    return parser


async def _dispatch(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    if args.command in (None, "status"):
        gateway = UnifiedICC(config)
        _print_survey(config, gateway, await gateway.survey(), out)
        return 0
    async with UnifiedICC(config) as gateway:
        if args.command == "new":
            info = await gateway.create_window(args.path, args.provider, args.mode)
            print(f"{info.window_id}\t{info.provider}\t{info.mode}\t{info.cwd}", file=out)
        elif args.command == "send":
            await gateway.send_to_window(parse_window_id(args.window_id), args.text)
        elif args.command == "key":
            await gateway.send_key(parse_window_id(args.window_id), args.key)
        elif args.command == "capture":
            print(await gateway.capture_pane(parse_window_id(args.window_id), ansi=args.ansi),
                  file=out)  # fmt: skip
        elif args.command == "kill":
            await gateway.kill_window(parse_window_id(args.window_id))
    return 0


def _print_survey(config: Config, gateway: UnifiedICC, survey: Survey, out: TextIO) -> None:
    settings = config.gateway
    socket = f" (socket {settings.tmux_socket})" if settings.tmux_socket else ""
    print(f"config folder: {config.config_dir}", file=out)
    print(f"config file:   {config.source or 'none (defaults)'}", file=out)
    print(f"tmux session:  {settings.tmux_session}{socket}, {survey.tmux_panes} panes", file=out)
    roots = ", ".join(str(r) for r in settings.workspace_roots) or "not confined"
    print(f"workspace:     {roots}", file=out)
    print(f"windows:       {len(survey.windows)}", file=out)
    for row in survey.windows:
        info = row.window
        bound = ", ".join(row.channels) or "-"
        print(f"  {info.window_id:<5} {row.state:<8} {info.provider:<7} {info.mode:<7} "
              f"{info.cwd}  chats: {bound}", file=out)  # fmt: skip
    print(f"orphans:       {len(survey.orphans)}", file=out)
    for orphan in survey.orphans:
        print(f"  {orphan.window_id:<5} {orphan.provider:<7} {orphan.cwd}  {orphan.command}",
              file=out)  # fmt: skip
    print("providers:", file=out)
    for provider in gateway.providers.all():
        state = "installed" if provider.is_installed() else "not installed"
        print(f"  {provider.name:<7} {' '.join(provider.command):<30} {state}", file=out)
