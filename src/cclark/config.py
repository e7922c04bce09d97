"""The bot's sections of config.yaml: Feishu apps, the health endpoint, files sent by #get,
the optional #ask orchestrator.

Owns the schema of ``feishu``, ``health``, ``files`` and ``orchestrator``, loading the whole
file through unified_icc.load_config, and telling whether the file exposes a secret (an app
secret, the orchestrator's key) to other accounts; knows nothing of tmux.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cclark.errors import CclarkConfigError
from unified_icc import Config, load_config

__all__ = [
    "ALLOW_EVERYONE",
    "CclarkConfig",
    "FeishuApp",
    "FeishuSettings",
    "GroupMessages",
    "HealthSettings",
    "OrchestratorSettings",
    "exposed_secret_file",
    "load_cclark_config",
]

ALLOW_EVERYONE = "*"
# Group or other may read: another account on the machine could take the app's secret.
_READABLE_BY_OTHERS = 0o044


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupMessages(StrEnum):
    """Which group messages the bot acts on (a one-to-one chat: every message)."""

    MENTION = "mention"  # only those that @mention the bot, as in every ordinary group
    ALL = "all"  # every one: for a group made for the bot (needs the all-messages scope)


class FeishuApp(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    domain: str = Field(default="https://open.feishu.cn", pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    # Closed by default: [] lets nobody in; ["*"] must be written to let everyone in.
    allowed_users: tuple[str, ...] = ()
    group_messages: GroupMessages = GroupMessages.MENTION

    def allows(self, open_id: str) -> bool:
        """Whether ``open_id`` may use the bot (closed unless listed, or "*" is listed)."""
        return ALLOW_EVERYONE in self.allowed_users or open_id in self.allowed_users


class FeishuSettings(_Strict):
    apps: tuple[FeishuApp, ...] = ()
    # The SDK's own reconnect can die silently (e.g. on a refused endpoint): after this many
    # seconds without a connection the bot starts a fresh client, backing off up to 60 s.
    watchdog_seconds: float = Field(default=30.0, gt=0, le=3600)


class HealthSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class FilesSettings(_Strict):
    # Names #get refuses beyond the built-in ones (.env*, keys, *credentials*, *secret*):
    # shell-style patterns matched against the file's name, case-insensitively.
    refuse: tuple[str, ...] = ()
    # The largest photo or file a chat may hand to its agent, in MB (Feishu serves up to 100).
    max_receive_mb: int = Field(default=30, ge=1, le=100)


class OrchestratorSettings(_Strict):
    """The OpenAI-compatible chat-completions endpoint behind #ask (off without the section)."""

    # The API's root, as the OpenAI SDK takes it: https://api.openai.com/v1,
    # https://open.bigmodel.cn/api/paas/v4, http://127.0.0.1:11434/v1 (ollama)…
    base_url: str = Field(min_length=1, pattern=r"^https?://[^\s/]+(:\d+)?(/\S*)?$")
    model: str = Field(min_length=1)
    # Never logged, audited nor shown by /health; empty for an endpoint that wants none.
    api_key: SecretStr = SecretStr("")
    # Seconds one answer of the model may take (a tool call's own work is not counted).
    timeout: float = Field(default=60.0, gt=0, le=600)
    # The SDK's retries of a refused or failed request (429, 5xx, a dropped connection).
    max_retries: int = Field(default=1, ge=0, le=5)
    # Tool calls one #ask may make before it is stopped: the orchestrator never loops.
    max_tool_calls: int = Field(default=8, ge=1, le=32)
    # Earlier #ask exchanges of the chat sent along with a new one (its short history).
    history: int = Field(default=6, ge=0, le=50)
    # Whether a message in a chat with no session goes to the orchestrator as if #ask'ed.
    unbound_chats: bool = False


SECTIONS: Mapping[str, type[BaseModel]] = {
    "feishu": FeishuSettings,
    "health": HealthSettings,
    "files": FilesSettings,
    "orchestrator": OrchestratorSettings,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CclarkConfig:
    gateway: Config
    feishu: FeishuSettings
    health: HealthSettings
    files: FilesSettings = field(default_factory=FilesSettings)
    # None: the section is absent, and #ask says how to configure it.
    orchestrator: OrchestratorSettings | None = None

    def app(self, name: str | None) -> FeishuApp:
        """The app to serve: the one named, or the only one.

        Raises: CclarkConfigError naming the apps there are and what to pass.
        """
        apps = self.feishu.apps
        names = ", ".join(a.name for a in apps)
        if name is not None:
            for app in apps:
                if app.name == name:
                    return app
            raise CclarkConfigError(f"no Feishu app named {name!r} (configured: {names or 'none'})")
        if len(apps) == 1:
            return apps[0]
        if not apps:
            raise CclarkConfigError(
                "no Feishu app is configured: add one under feishu.apps in config.yaml "
                "(see docs/feishu-setup.md)"
            )
        raise CclarkConfigError(
            f"several Feishu apps are configured ({names}): one process serves one app, "
            "so pick it with --app NAME"
        )


def load_cclark_config(
    config_dir: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | str | None = None,
) -> CclarkConfig:
    """Load and check the whole config.yaml (every top-level key must be known).

    Raises: unified_icc.ConfigError naming the key and the file.
    """
    config = load_config(config_dir, env=env, sections=SECTIONS, config_file=config_file)
    orchestrator = None
    if "orchestrator" in config.sections:
        orchestrator = config.section("orchestrator", OrchestratorSettings)
    return CclarkConfig(
        gateway=config,
        feishu=config.section("feishu", FeishuSettings),
        health=config.section("health", HealthSettings),
        files=config.section("files", FilesSettings),
        orchestrator=orchestrator,
    )


def exposed_secret_file(config: CclarkConfig) -> Path | None:
    """The config file, when it holds a secret (a Feishu app's, the orchestrator's key) and
    other accounts may read it.

    A query: it only looks at the file's mode (and never at the secret). None when the file
    is private, holds no secret, or cannot be looked at.
    """
    source = config.gateway.source
    keyed = config.orchestrator is not None and config.orchestrator.api_key.get_secret_value()
    if source is None or not (config.feishu.apps or keyed):
        return None
    try:
        mode = source.stat().st_mode
    except OSError:
        return None
    return source if mode & _READABLE_BY_OTHERS else None
