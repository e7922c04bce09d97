"""The ``cclark`` command: serve one Feishu app, local mode, or check the configuration.

Owns argument parsing and terminal messages; the bot itself is built in main.py. With no
Feishu app configured (or with --local) it runs local mode (local_mode.py): a web chat on
this machine instead of Feishu.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Final, TextIO

from cclark.config import (
    CclarkConfig,
    FeishuApp,
    GroupMessages,
    exposed_secret_file,
    load_cclark_config,
)
from cclark.errors import CclarkError
from unified_icc import UnifiedICCError

__all__ = ["main"]

DEFAULT_PORT: Final = 8765
"""Where local mode's chat page is served unless --port says otherwise (0: any free port)."""

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command; 0 ok, 1 configuration or start-up error."""
    stream = out or sys.stdout
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["emulator"]:
        from feishu_emulator.__main__ import main as emulator_main  # imported late: see _run_bot

        return emulator_main(arguments[1:])
    args = _parser().parse_args(arguments)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    # libtmux, Lark and the OpenAI SDK (with its HTTP client) log whole requests at DEBUG,
    # which may carry tokens, env values and user text; watchfiles logs a line per batch of
    # changed files at INFO.
    for noisy in ("libtmux", "Lark", "watchfiles", "openai", "httpx2", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_cclark_config(args.config_dir, config_file=args.config)
        _warn_if_exposed(config)
        if args.command == "check-config":
            _summarise(config, stream)
            return 0
        local = args.local or (not config.feishu.apps and args.app is None)
        app = None if local else config.app(args.app)
    except (UnifiedICCError, CclarkError) as exc:
        print(f"cclark: {exc}", file=sys.stderr)
        return 1
    if app is not None:
        return _run_bot(config, app)
    return _run_local(config, args.port, stream)


def _run_bot(config: CclarkConfig, app: FeishuApp) -> int:
    # The bot is imported only to run it: it imports lark-oapi (about 10,000 modules, seconds
    # of start-up), which check-config and a refused start never need.
    from cclark.main import run

    return run(config, app)


def _run_local(config: CclarkConfig, port: int, out: TextIO) -> int:
    from cclark.local_mode import serve_local  # imported late: see _run_bot
    from cclark.main import run_until_signal

    def announce(text: str) -> None:
        print(text, file=out, flush=True)

    try:
        return run_until_signal(
            lambda stop: serve_local(config, port=port, stop=stop, announce=announce)
        )
    except OSError as exc:
        print(f"cclark: local mode could not start: {exc} (--port sets the chat page's port, 0 "
              "for any free one; health.port in config.yaml the health endpoint's)",
              file=sys.stderr)  # fmt: skip
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cclark", description="Drive AI coding CLIs from Feishu.")
    parser.add_argument(
        "--config-dir", help="state and config folder (default $UNIFIED_ICC_DIR or ~/.unified-icc)"
    )
    parser.add_argument("--config", help="config file (default <config folder>/config.yaml)")
    parser.add_argument("--app", help="which feishu.apps entry to serve (one per process)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="local mode: a web chat on this machine instead of Feishu "
        "(the default when no Feishu app is configured)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"local mode's chat page port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("check-config", help="validate config.yaml and summarise it (no secrets)")
    sub.add_parser("emulator", help="run the local Feishu emulator (see `cclark emulator -h`)")
    return parser


def _warn_if_exposed(config: CclarkConfig) -> None:
    exposed = exposed_secret_file(config)
    if exposed is not None:
        logger.warning("%s holds a secret (a Feishu app secret or the orchestrator's api_key) "
                       "and other accounts on this machine can read it: run chmod 600 %s",
                       exposed, exposed)  # fmt: skip


def _summarise(config: CclarkConfig, out: TextIO) -> None:
    print(f"config: {config.gateway.source or 'none (defaults)'}", file=out)
    print(f"tmux session: {config.gateway.gateway.tmux_session}", file=out)
    print(f"health: http://{config.health.host}:{config.health.port}/health", file=out)
    if not config.feishu.apps:
        print("feishu apps: none configured", file=out)
    for app in config.feishu.apps:
        users = "everyone" if "*" in app.allowed_users else f"{len(app.allowed_users)} allowed"
        groups = "every message" if app.group_messages is GroupMessages.ALL else "@mentions only"
        print(f"feishu app {app.name}: {app.app_id} at {app.domain}, users: {users}, "
              f"groups: {groups}", file=out)  # fmt: skip
    ask = config.orchestrator
    if ask is None:
        print("orchestrator (#ask): not configured", file=out)
    else:
        print(f"orchestrator (#ask): {ask.model} at {ask.base_url}", file=out)
