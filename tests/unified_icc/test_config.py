"""config.yaml loading: defaults, strict keys, clear errors naming key and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from unified_icc import ConfigError, load_config, resolve_config_dir


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def test_missing_config_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nowhere")

    assert config.source is None
    assert config.gateway.tmux_session == "cclark"
    assert config.gateway.tmux_socket is None
    assert config.gateway.workspace_roots == ()
    assert config.providers.claude.command is None
    assert config.providers.shell.env == {}
    assert config.state_path == tmp_path / "nowhere" / "state.json"


def test_config_dir_comes_from_argument_then_env_then_home(tmp_path: Path) -> None:
    env = {"UNIFIED_ICC_DIR": str(tmp_path / "from-env"), "HOME": str(tmp_path / "home")}

    assert resolve_config_dir(tmp_path / "explicit", env=env) == tmp_path / "explicit"
    assert resolve_config_dir(env=env) == tmp_path / "from-env"
    assert resolve_config_dir(env={"HOME": str(tmp_path / "home")}) == (
        tmp_path / "home" / ".unified-icc"
    )


def test_every_documented_key_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = _write(
        tmp_path,
        """
gateway:
  tmux_session: work
  tmux_socket: private
  workspace_roots: [~/projects, /srv/code]
providers:
  claude: {command: /opt/claude/bin/claude, env: {IS_SANDBOX: "1"}}
  codex: {command: codex}
  gemini: {env: {GEMINI_API_KEY: k}}
  shell: {command: zsh -l}
""",
    )
    config = load_config(tmp_path)

    assert config.source == path
    assert config.gateway.tmux_session == "work"
    assert config.gateway.tmux_socket == "private"
    assert config.gateway.workspace_roots == (tmp_path / "home" / "projects", Path("/srv/code"))
    assert config.providers.claude.env == {"IS_SANDBOX": "1"}
    assert config.providers.shell.command == "zsh -l"


@pytest.mark.parametrize(
    ("text", "key", "says"),
    [
        ("gateway:\n  tmux_sesion: x\n", "gateway.tmux_sesion", "unknown key"),
        ("gatway:\n  tmux_session: x\n", "gatway", "unknown key"),
        ("gateway:\n  workspace_roots: relative/path\n", "gateway.workspace_roots", "tuple"),
        ("gateway:\n  workspace_roots: [relative]\n", "gateway.workspace_roots", "absolute"),
        ("gateway:\n  window_width: wide\n", "gateway.window_width", "integer"),
        ("providers:\n  cursor: {command: x}\n", "providers.cursor", "unknown key"),
        ("providers:\n  claude: {env: {A: [1]}}\n", "providers.claude.env.A", "string"),
    ],
)
def test_bad_config_stops_with_the_key_and_the_file(
    tmp_path: Path, text: str, key: str, says: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, sections={})

    message = str(caught.value)
    assert message.startswith(f"{path}: {key}:")
    assert says in message
    assert caught.value.key == key


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "gateway: [unclosed\n")

    with pytest.raises(ConfigError, match=f"{path}: not valid YAML"):
        load_config(tmp_path)


def test_secret_values_are_not_echoed_in_errors(tmp_path: Path) -> None:
    _write(tmp_path, "providers:\n  claude: {env: {ANTHROPIC_API_KEY: 12345678}}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert "12345678" not in str(caught.value)


def test_frontend_sections_are_left_to_the_frontend_unless_declared(tmp_path: Path) -> None:
    _write(tmp_path, "feishu:\n  apps: []\n")

    assert load_config(tmp_path).sections == {}
    with pytest.raises(ConfigError, match="feishu: unknown key"):
        load_config(tmp_path, sections={})
