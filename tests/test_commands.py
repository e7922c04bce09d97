"""The commands a user types: console scripts and ``python -m`` for both packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(*argv: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNIFIED_ICC_DIR": str(env_dir), "HOME": str(env_dir / "home")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.parametrize(
    "argv",
    [[str(BIN / "unified-icc")], [sys.executable, "-m", "unified_icc", "status"]],
    ids=["console-script", "python-m"],
)
def test_unified_icc_status_reports_the_gateway(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"gateway: {{tmux_socket: cmd-{os.getpid()}}}\n")
    result = _run(*argv, env_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"config folder: {tmp_path}" in result.stdout
    assert "tmux session:  cclark (socket cmd-" in result.stdout
    assert "windows:       0" in result.stdout
    assert "shell   bash" in result.stdout


@pytest.mark.parametrize(
    "argv",
    [[str(BIN / "cclark"), "check-config"], [sys.executable, "-m", "cclark", "check-config"]],
    ids=["console-script", "python-m"],
)
def test_cclark_check_config_summarises_without_secrets(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "feishu:\n  apps:\n    - {name: main, app_id: cli_9, app_secret: TOPSECRET}\n"
    )
    result = _run(*argv, env_dir=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "feishu app main: cli_9 at https://open.feishu.cn, users: 0 allowed" in result.stdout
    assert "TOPSECRET" not in result.stdout + result.stderr


def test_commands_reject_a_bad_config_with_key_and_file(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("gateway:\n  tmux_sesion: typo\n")

    for argv in ([str(BIN / "unified-icc")], [str(BIN / "cclark"), "check-config"]):
        result = _run(*argv, env_dir=tmp_path)
        assert result.returncode == 1
        assert f"{tmp_path / 'config.yaml'}: gateway.tmux_sesion: unknown key" in result.stderr


def test_cclark_asked_for_an_app_that_is_not_configured_names_what_there_is(
    tmp_path: Path,
) -> None:
    # Without --app, no app configured means local mode (tests/cclark/test_local_mode.py).
    result = _run(str(BIN / "cclark"), "--app", "main", env_dir=tmp_path)

    assert result.returncode == 1
    assert "no Feishu app named 'main' (configured: none)" in result.stderr


def test_cclark_with_several_apps_asks_which_one(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "feishu:\n  apps:\n    - {name: a, app_id: cli_a, app_secret: s}\n"
        "    - {name: b, app_id: cli_b, app_secret: s}\n"
    )

    several = _run(str(BIN / "cclark"), env_dir=tmp_path)
    unknown = _run(str(BIN / "cclark"), "--app", "c", env_dir=tmp_path)

    assert "several Feishu apps are configured (a, b)" in several.stderr
    assert "--app NAME" in several.stderr
    assert "no Feishu app named 'c' (configured: a, b)" in unknown.stderr


def test_cclark_emulator_serves_its_control_surface_on_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "UNIFIED_ICC_DIR": str(tmp_path), "NO_PROXY": "127.0.0.1,localhost"}
    emulator = subprocess.Popen([str(BIN / "cclark"), "emulator", "--port", "0"], env=env,
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert emulator.stdout is not None
        line = emulator.stdout.readline()
        url = line[line.index("http://") :].split()[0]
        with urllib.request.urlopen(f"{url}/_emulator", timeout=30) as response:
            overview = json.loads(response.read())
        refused = subprocess.run([str(BIN / "cclark"), "emulator", "--host", "0.0.0.0"],
                                 env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        if emulator.stdout is not None:
            emulator.stdout.close()
    assert url.startswith("http://127.0.0.1:")
    assert "apps" in overview
    assert refused.returncode == 2
