"""The bot's config sections: Feishu apps closed by default, secrets kept out of output."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from cclark.cli import main
from cclark.config import load_cclark_config
from unified_icc import ConfigError


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(text)
    return folder / "config.yaml"


def test_feishu_app_defaults_are_closed_and_point_at_feishu(tmp_path: Path) -> None:
    _write(tmp_path, "feishu:\n  apps:\n    - {name: main, app_id: cli_1, app_secret: s3cr3t}\n")

    config = load_cclark_config(tmp_path)

    app = config.feishu.apps[0]
    assert app.domain == "https://open.feishu.cn"
    assert app.allowed_users == ()
    assert not app.allows("ou_anyone")
    assert "s3cr3t" not in repr(config)
    assert (config.health.host, config.health.port) == ("127.0.0.1", 8080)


def test_allowed_users_star_lets_everyone_in(tmp_path: Path) -> None:
    _write(tmp_path, """
feishu:
  apps:
    - {name: main, app_id: cli_1, app_secret: x, allowed_users: ["*"]}
    - {name: team, app_id: cli_2, app_secret: y, allowed_users: [ou_a],
       domain: "https://open.larksuite.com"}
health: {host: 127.0.0.1, port: 9090}
""")
    main, team = load_cclark_config(tmp_path).feishu.apps

    assert main.allows("ou_someone")
    assert team.allows("ou_a")
    assert not team.allows("ou_b")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("feishu:\n  apps:\n    - {name: m, app_id: c}\n", "feishu.apps.0.app_secret"),
        ("feishu:\n  apps:\n    - {name: m, app_id: c, app_secret: s, allowed: []}\n",
         "feishu.apps.0.allowed"),
        ("health: {port: eighty}\n", "health.port"),
        ("telegram: {}\n", "telegram"),
    ],
)  # fmt: skip
def test_bad_bot_config_names_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError, match=f"^{path}: {key}: "):
        load_cclark_config(tmp_path)


_APP = "feishu:\n  apps:\n    - {name: main, app_id: cli_1, app_secret: s3cr3t}\n"
_ASK = "orchestrator: {base_url: 'http://127.0.0.1:9/v1', model: m, api_key: s3cr3t}\n"


@pytest.mark.parametrize(
    ("mode", "text", "warned"),
    [(0o644, _APP, True), (0o640, _APP, True), (0o600, _APP, False),
     (0o644, _ASK, True), (0o600, _ASK, False), (0o644, "health: {port: 9090}\n", False)],
)  # fmt: skip
def test_a_config_file_others_can_read_is_warned_about_once_when_it_holds_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, text: str, warned: bool
) -> None:
    path = _write(tmp_path, text)
    path.chmod(mode)

    with caplog.at_level(logging.WARNING):
        code = main(["--config-dir", str(tmp_path), "check-config"], out=io.StringIO())

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert code == 0
    if warned:
        assert warnings == [f"{path} holds a secret (a Feishu app secret or the orchestrator's "
                            "api_key) and other accounts on this machine can read it: run "
                            f"chmod 600 {path}"]  # fmt: skip
    else:
        assert warnings == []
    assert "s3cr3t" not in caplog.text


def test_without_an_orchestrator_section_there_is_no_orchestrator(tmp_path: Path) -> None:
    _write(tmp_path, "health: {port: 9090}\n")

    assert load_cclark_config(tmp_path).orchestrator is None


def test_the_orchestrator_section_keeps_its_key_out_of_output(tmp_path: Path) -> None:
    _write(tmp_path, "orchestrator:\n  base_url: https://open.bigmodel.cn/api/paas/v4\n"
                     "  model: glm-4.6\n  api_key: sk-s3cr3t\n")  # fmt: skip
    out = io.StringIO()

    config = load_cclark_config(tmp_path)
    code = main(["--config-dir", str(tmp_path), "check-config"], out=out)

    ask = config.orchestrator
    assert ask is not None
    assert (ask.model, ask.max_tool_calls, ask.unbound_chats) == ("glm-4.6", 8, False)
    assert code == 0
    assert "orchestrator (#ask): glm-4.6 at https://open.bigmodel.cn/api/paas/v4" in out.getvalue()
    assert "sk-s3cr3t" not in repr(config) + out.getvalue()


@pytest.mark.parametrize(
    ("text", "key"),
    [("orchestrator: {model: m}\n", "orchestrator.base_url"),
     ("orchestrator: {base_url: 'ftp://x', model: m}\n", "orchestrator.base_url"),
     ("orchestrator: {base_url: 'http://x/v1'}\n", "orchestrator.model"),
     ("orchestrator: {base_url: 'http://x/v1', model: m, max_tool_calls: 0}\n",
      "orchestrator.max_tool_calls")],
)  # fmt: skip
def test_a_bad_orchestrator_section_names_its_key(tmp_path: Path, text: str, key: str) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError, match=f"^{path}: {key}: "):
        load_cclark_config(tmp_path)
