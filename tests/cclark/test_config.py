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


@pytest.mark.parametrize(
    ("mode", "apps", "warned"),
    [(0o644, True, True), (0o640, True, True), (0o600, True, False), (0o644, False, False)],
)
def test_a_config_file_others_can_read_is_warned_about_once_when_it_holds_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, apps: bool, warned: bool
) -> None:
    app = "feishu:\n  apps:\n    - {name: main, app_id: cli_1, app_secret: s3cr3t}\n"
    path = _write(tmp_path, app if apps else "health: {port: 9090}\n")
    path.chmod(mode)

    with caplog.at_level(logging.WARNING):
        code = main(["--config-dir", str(tmp_path), "check-config"], out=io.StringIO())

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert code == 0
    if warned:
        assert warnings == [f"{path} holds a Feishu app secret and other accounts on this "
                            f"machine can read it: run chmod 600 {path}"]  # fmt: skip
    else:
        assert warnings == []
    assert "s3cr3t" not in caplog.text
