"""The ``cclark`` command.

Owns argument parsing for the bot; today it checks the configuration (the Feishu connection
is not part of this version yet, and the command says so instead of pretending).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from cclark.config import CclarkConfig, load_cclark_config
from unified_icc import UnifiedICCError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    parser = argparse.ArgumentParser(prog="cclark", description="Drive AI coding CLIs from Feishu.")
    parser.add_argument(
        "--config-dir", help="config folder (default $UNIFIED_ICC_DIR or ~/.unified-icc)"
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("check-config", help="validate config.yaml and summarise it (no secrets)")
    args = parser.parse_args(argv)
    try:
        config = load_cclark_config(args.config_dir)
    except UnifiedICCError as exc:
        print(f"cclark: {exc}", file=sys.stderr)
        return 1
    _summarise(config, stream)
    if args.command == "check-config":
        return 0
    print(
        "cclark: the Feishu connection is not available in this version yet; "
        "use `unified-icc` to run and drive agent windows",
        file=sys.stderr,
    )
    return 2


def _summarise(config: CclarkConfig, out: TextIO) -> None:
    print(f"config: {config.gateway.source or 'none (defaults)'}", file=out)
    print(f"tmux session: {config.gateway.gateway.tmux_session}", file=out)
    print(f"health: http://{config.health.host}:{config.health.port}/health", file=out)
    if not config.feishu.apps:
        print("feishu apps: none configured", file=out)
    for app in config.feishu.apps:
        users = "everyone" if "*" in app.allowed_users else f"{len(app.allowed_users)} allowed"
        print(f"feishu app {app.name}: {app.app_id} at {app.domain}, users: {users}", file=out)
