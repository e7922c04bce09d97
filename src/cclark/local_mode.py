"""Local mode: cclark with no Feishu app, used from a web chat served on this machine.

Owns the local app and its people (fixed ids, so a chat's bindings survive a restart), its
secret (random per installation, in a 0600 file, never served), the emulator with its chat
page on 127.0.0.1 (behind a per-launch token, with no test controls and room for one bot
connection), and the lines that tell the person where to go. The bot itself is main.serve,
unchanged: it connects to the emulator through the real lark-oapi SDK exactly as it connects
to Feishu.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from cclark.config import CclarkConfig, FeishuApp
from cclark.health import HealthServer
from cclark.main import serve
from feishu_emulator import App, Emulator, Limits, PageSettings, PageUser
from unified_icc import write_private_file

__all__ = [
    "LOCAL_APP",
    "STRANGER",
    "YOU",
    "local_app",
    "local_app_secret",
    "serve_local",
    "with_default_workspace",
]

logger = logging.getLogger(__name__)

LOCAL_APP: Final = "local"
"""The app name in channel ids (feishu:local:<chat>) and in the state folder's files."""

YOU: Final = PageUser(open_id="ou_local_you", name="You", allowed=True,
                      p2p_chat_id="oc_local_you")  # fmt: skip
STRANGER: Final = PageUser(open_id="ou_local_stranger", name="A stranger", allowed=False,
                           p2p_chat_id="oc_local_stranger")  # fmt: skip
GROUP_CHAT: Final = "oc_local_topics"
LOCAL_APP_ID: Final = "cli_local_cclark"
LOCAL_BOT_OPEN_ID: Final = "ou_local_cclark_bot"
SECRET_FILE: Final = "local-app.json"
"""Holds the local app's secret, in the config folder (mode 0600)."""


def local_app(url: str, secret: str) -> FeishuApp:
    """The bot's app entry for the emulator at url; only YOU is allowed in."""
    return FeishuApp(
        name=LOCAL_APP,
        app_id=LOCAL_APP_ID,
        app_secret=SecretStr(secret),
        domain=url,
        allowed_users=(YOU.open_id,),
    )


def local_app_secret(config_dir: Path) -> str:
    """The local app's secret: made once per installation, kept in a 0600 file.

    Only the bot and the emulator it starts use it; another account on this machine cannot
    read it, so it cannot connect to the emulator as the bot or fetch its tokens. An unreadable
    or exposed file is replaced by a new secret (nothing else depends on it).
    Raises: OSError when the config folder cannot be written.
    """
    path = config_dir / SECRET_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        stored = None
    except (OSError, ValueError) as exc:
        logger.warning("replacing the unreadable local app secret in %s (%s)", path, exc)
        stored = None
    if stored is not None:
        secret = stored.get("app_secret") if isinstance(stored, dict) else None
        private = path.stat().st_mode & 0o077 == 0
        if isinstance(secret, str) and len(secret) >= 32 and private:
            return secret
        logger.warning("replacing the local app secret in %s: it was readable by others or "
                       "malformed", path)  # fmt: skip
    secret = secrets.token_urlsafe(32)
    write_private_file(path, json.dumps({"app_id": LOCAL_APP_ID, "app_secret": secret}).encode())
    return secret


async def serve_local(
    config: CclarkConfig,
    *,
    port: int,
    stop: asyncio.Event,
    announce: Callable[[str], None],
    on_ready: Callable[[HealthServer], None] | None = None,
) -> None:
    """Start the emulator and its chat page, then the bot against it, until stop is set.

    Raises: OSError when the port cannot be bound (the message names it).
    """
    _bypass_proxies_for_loopback()
    config = with_default_workspace(config)
    secret = local_app_secret(config.gateway.config_dir)
    app = App(app_id=LOCAL_APP_ID, app_secret=secret, bot_name="cclark",
              bot_open_id=LOCAL_BOT_OPEN_ID)  # fmt: skip
    page = PageSettings(
        app_id=app.app_id,
        bot_name=app.bot_name,
        users=(YOU, STRANGER),
        group_chat_id=GROUP_CHAT,
        group_name="cclark topics",
        app_name="cclark (local mode)",
    )
    # No test controls, and room for exactly one long connection: the bot's.
    emulator = Emulator(apps=[app], page=page, port=port, limits=Limits(max_connections=1))
    async with emulator:

        def ready(health: HealthServer) -> None:
            announce(_welcome(emulator.page_url, health, config))
            if on_ready is not None:
                on_ready(health)

        await serve(config, local_app(emulator.url, secret), stop=stop, on_ready=ready)


def with_default_workspace(config: CclarkConfig) -> CclarkConfig:
    """Local mode with no workspace_roots configured opens agents under the user's home.

    The chat is reachable only from this machine, whose user can already reach their home.
    """
    settings = config.gateway.gateway
    if settings.workspace_roots:
        return config
    home = config.gateway.home
    gateway = settings.model_copy(update={"workspace_roots": (home.resolve(),)})
    return dataclasses.replace(config, gateway=dataclasses.replace(config.gateway, gateway=gateway))


def _welcome(page_url: str, health: HealthServer, config: CclarkConfig) -> str:
    settings = config.gateway.gateway
    socket = f" -L {settings.tmux_socket}" if settings.tmux_socket else ""
    roots = ", ".join(str(root) for root in settings.workspace_roots)
    return "\n".join(
        [
            "cclark is running in local mode (no Feishu app is configured).",
            f"  Chat:     {page_url}",
            "            (this machine only; the link's token is the key: do not share it)",
            f"  Folders:  #new opens agents under {roots}",
            f"  Health:   http://{config.health.host}:{health.port}/health",
            f"  Terminal: tmux{socket} attach -t {settings.tmux_session}",
            "Open the chat and send #new to start a session. Ctrl-C stops cclark "
            "(the agents keep running in tmux).",
        ]
    )


def _bypass_proxies_for_loopback() -> None:
    """lark-oapi's requests honours HTTP(S)_PROXY; the emulator must be reached directly."""
    for name in ("NO_PROXY", "no_proxy"):
        present = [part for part in os.environ.get(name, "").split(",") if part]
        wanted = [host for host in ("127.0.0.1", "localhost") if host not in present]
        os.environ[name] = ",".join([*present, *wanted])
