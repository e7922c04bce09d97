"""The bot's sections of config.yaml: Feishu apps and the health endpoint.

Owns the schema of ``feishu`` and ``health`` and loading the whole file through
unified_icc.load_config; knows nothing of tmux.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from unified_icc import Config, load_config

__all__ = [
    "ALLOW_EVERYONE",
    "CclarkConfig",
    "FeishuApp",
    "FeishuSettings",
    "HealthSettings",
    "load_cclark_config",
]

ALLOW_EVERYONE = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeishuApp(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    domain: str = Field(default="https://open.feishu.cn", pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    # Closed by default: [] lets nobody in; ["*"] must be written to let everyone in.
    allowed_users: tuple[str, ...] = ()

    def allows(self, open_id: str) -> bool:
        return ALLOW_EVERYONE in self.allowed_users or open_id in self.allowed_users


class FeishuSettings(_Strict):
    apps: tuple[FeishuApp, ...] = ()


class HealthSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


SECTIONS: Mapping[str, type[BaseModel]] = {"feishu": FeishuSettings, "health": HealthSettings}


@dataclass(frozen=True, slots=True, kw_only=True)
class CclarkConfig:
    gateway: Config
    feishu: FeishuSettings
    health: HealthSettings


def load_cclark_config(
    config_dir: Path | str | None = None, *, env: Mapping[str, str] | None = None
) -> CclarkConfig:
    """Load and check the whole config.yaml (every top-level key must be known).

    Raises: unified_icc.ConfigError naming the key and the file.
    """
    config = load_config(config_dir, env=env, sections=SECTIONS)
    return CclarkConfig(
        gateway=config,
        feishu=config.section("feishu", FeishuSettings),
        health=config.section("health", HealthSettings),
    )
