"""``python -m feishu_emulator``: run the Feishu emulator standalone until interrupted.

Owns the command line (host, port, app credentials, tuning) and the foreground loop; the
emulator itself is app.py. Binds loopback only unless --allow-remote is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from feishu_emulator.app import EmulatorServer, EmulatorSettings, is_loopback
from feishu_emulator.control_http import CONTROL_PREFIX
from feishu_emulator.models import App, ClientConfig, Limits

__all__ = ["main"]

DEFAULT_PORT = 8765


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m feishu_emulator",
        description="A local Feishu/Lark Open Platform for the real lark-oapi SDK.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--app-id", help="the app's id (default: generated)")
    parser.add_argument("--app-secret", help="the app's secret (default: generated)")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --host (no auth!)"
    )
    parser.add_argument(
        "--fast-reconnect",
        action="store_true",
        help="hand out ReconnectNonce=0, ReconnectInterval=1 instead of production-like values",
    )
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="do not enforce the documented QPS limits"
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


def _settings(args: argparse.Namespace) -> EmulatorSettings:
    default = App()
    app = App(
        app_id=args.app_id or default.app_id,
        app_secret=args.app_secret or default.app_secret,
    )
    return EmulatorSettings(
        host=args.host,
        port=args.port,
        apps=(app,),
        client_config=ClientConfig.fast() if args.fast_reconnect else ClientConfig(),
        limits=Limits(enforced=not args.no_rate_limits),
        allow_remote=args.allow_remote,
        test_controls=True,  # this command is the test server people and scripts drive
    )


async def _serve(settings: EmulatorSettings) -> None:
    server = EmulatorServer(settings)
    url = await server.start()
    app = settings.apps[0]
    print(f"Feishu emulator at {url}", flush=True)
    print(f"  app_id:     {app.app_id}\n  app_secret: {app.app_secret}", flush=True)
    print(f"  control:    {url}{CONTROL_PREFIX}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not (args.allow_remote or is_loopback(args.host)):
        print(
            f"refusing to bind {args.host}: not a loopback address (add --allow-remote)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        asyncio.run(_serve(_settings(args)))
    except OSError as error:
        print(f"cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
