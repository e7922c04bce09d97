"""Configuration: the config folder, config.yaml, and the gateway's frozen settings.

Owns the only reads of os.environ in unified_icc and the schema of the ``gateway`` and
``providers`` sections. Frontends (cclark) declare and validate their own sections through
``load_config(..., sections=...)``; this module knows nothing of what those sections mean.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from unified_icc.errors import ConfigError

__all__ = [
    "CONFIG_DIR_ENV",
    "PROVIDER_NAMES",
    "Config",
    "ConfigFile",
    "GatewaySettings",
    "ProviderSettings",
    "ProvidersSettings",
    "load_config",
    "resolve_config_dir",
]

CONFIG_DIR_ENV = "UNIFIED_ICC_DIR"
CONFIG_FILE_NAME = "config.yaml"
PROVIDER_NAMES = ("claude", "codex", "gemini", "shell")

# Values under keys like these are never echoed in error messages.
_SECRET_WORDS = ("secret", "token", "password", "key", ".env")

_Section = TypeVar("_Section", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderSettings(_Strict):
    """How one agent CLI is launched."""

    command: str | None = Field(
        default=None,
        description="the executable (may carry arguments, split like a shell); None = default",
    )
    env: dict[str, str] = Field(default_factory=dict, description="extra environment")


class ProvidersSettings(_Strict):
    claude: ProviderSettings = ProviderSettings()
    codex: ProviderSettings = ProviderSettings()
    gemini: ProviderSettings = ProviderSettings()
    shell: ProviderSettings = ProviderSettings()

    def for_provider(self, name: str) -> ProviderSettings:
        settings: ProviderSettings = getattr(self, name)  # name is checked by the registry
        return settings


class GatewaySettings(_Strict):
    tmux_session: str = Field(default="cclark", min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    tmux_socket: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    workspace_roots: tuple[Path, ...] = ()
    window_width: int = Field(default=200, ge=40, le=1000)
    window_height: int = Field(default=50, ge=10, le=500)
    poll_interval: float = Field(default=1.0, gt=0, le=60)
    tmux_timeout: float = Field(default=10.0, gt=0, le=300)
    max_text_chars: int = Field(default=100_000, ge=1, le=1_000_000)
    submit_timeout: float = Field(default=3.0, gt=0, le=60)
    answer_timeout: float = Field(default=5.0, gt=0, le=60)
    interrupt_timeout: float = Field(default=2.0, gt=0, le=60)
    ready_timeout: float = Field(default=30.0, gt=0, le=300)
    # Off (None) unless set; a window's own value (create_window) wins, 0 turning it off.
    idle_timeout: float | None = Field(default=None, gt=0, le=30 * 86400)
    turn_timeout: float | None = Field(default=None, gt=0, le=30 * 86400)
    # A turn WORKING with no new output for this long is reported once (WindowChange.STALLED):
    # a long command, or a CLI silently retrying a refusing model API. None: never.
    stall_notice: float | None = Field(default=300.0, gt=0, le=30 * 86400)

    @field_validator("workspace_roots", mode="before")
    @classmethod
    def _expand_roots(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        roots = []
        for item in value:
            if not isinstance(item, str | Path):
                raise ValueError("each workspace root must be a path string")
            root = Path(os.path.expanduser(str(item)))
            if not root.is_absolute():
                raise ValueError(f"workspace root {item!r} must be absolute (or start with ~)")
            roots.append(root)
        return tuple(roots)


class ConfigFile(_Strict):
    """The gateway's part of config.yaml."""

    gateway: GatewaySettings = GatewaySettings()
    providers: ProvidersSettings = ProvidersSettings()


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything the gateway needs, resolved: settings plus where its files live."""

    config_dir: Path
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    providers: ProvidersSettings = field(default_factory=ProvidersSettings)
    sections: Mapping[str, BaseModel] = field(default_factory=dict)
    source: Path | None = None
    # The user's home, where the agent CLIs keep their transcripts.
    home: Path = field(default_factory=Path.home)

    @property
    def state_path(self) -> Path:
        return self.config_dir / "state.json"

    def section(self, name: str, model: type[_Section]) -> _Section:
        """The frontend section ``name``, validated as ``model`` by load_config."""
        value = self.sections.get(name)
        if value is None:
            return model()
        if not isinstance(value, model):
            raise ConfigError(f"section {name!r} was loaded as {type(value).__name__}")
        return value


def resolve_config_dir(
    explicit: Path | str | None = None, *, env: Mapping[str, str] | None = None
) -> Path:
    """The config folder: ``explicit``, else ``$UNIFIED_ICC_DIR``, else ``~/.unified-icc``."""
    environ = os.environ if env is None else env
    if explicit is not None:
        return Path(explicit).expanduser()
    if environ.get(CONFIG_DIR_ENV):
        return Path(environ[CONFIG_DIR_ENV]).expanduser()
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".unified-icc"


def load_config(
    config_dir: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    sections: Mapping[str, type[BaseModel]] | None = None,
    config_file: Path | str | None = None,
) -> Config:
    """Load ``<config dir>/config.yaml`` (or ``config_file``); a missing file means defaults.

    ``sections`` names the frontend's own top-level sections and their models. When it is
    given, any other top-level key is an error; when it is None, other sections are left to
    the frontend that owns them.

    Raises:
        ConfigError: unreadable YAML, an unknown key or a wrong type, naming key and file.
    """
    folder = resolve_config_dir(config_dir, env=env)
    path = Path(config_file).expanduser() if config_file else folder / CONFIG_FILE_NAME
    raw = _read_yaml(path)
    own = {key: raw[key] for key in ("gateway", "providers") if key in raw}
    parsed = _validate(ConfigFile, own, path=path, prefix="")
    loaded: dict[str, BaseModel] = {}
    others = {k: v for k, v in raw.items() if k not in ("gateway", "providers")}
    for key, value in others.items():
        if sections is None:
            continue
        model = sections.get(key)
        if model is None:
            allowed = ", ".join(sorted({"gateway", "providers", *sections}))
            raise ConfigError(
                f"{path}: {key}: unknown key (allowed top-level keys: {allowed})",
                path=str(path),
                key=str(key),
            )
        loaded[key] = _validate(model, value, path=path, prefix=f"{key}.")
    environ = os.environ if env is None else env
    return Config(
        home=Path(environ.get("HOME") or Path.home()),
        config_dir=folder,
        gateway=parsed.gateway,
        providers=parsed.providers,
        sections=loaded,
        source=path if path.exists() else None,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}", path=str(path)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}", path=str(path)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections", path=str(path))
    return {str(k): v for k, v in data.items()}


def _validate(model: type[_Section], value: Any, *, path: Path, prefix: str) -> _Section:
    if value is None:
        value = {}
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = prefix + ".".join(str(part) for part in first["loc"])
        key = key.rstrip(".") or prefix.rstrip(".") or "(top level)"
        secret = any(word in key.lower() for word in _SECRET_WORDS)
        raise ConfigError(
            f"{path}: {key}: {_describe(first, show_input=not secret)}", path=str(path), key=key
        ) from None


def _describe(error: Mapping[str, Any], *, show_input: bool) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (see config.example.yaml for the keys that exist)"
    if kind == "missing":
        return "required key is missing"
    got = error.get("input")
    shown = "" if not show_input or isinstance(got, dict | list) else f" (got {got!r})"
    return f"{error.get('msg', 'invalid value')}{shown}"
