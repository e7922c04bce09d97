"""Pre-seeded $HOME and environment for the real agent CLIs against FakeModelAPIs.

Owns the files each pinned CLI reads at start (so no first-run dialog appears), the
environment that keeps it offline and quiet, and the clean-up of every process left running
with that HOME. It does not launch anything or serve HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fakes.model_apis import FakeModelAPIs

__all__ = [
    "CLAUDE_VERSION",
    "INHERITED_ENV_TO_DROP",
    "agent_cli",
    "home_pids",
    "kill_home_processes",
    "seed_agent_home",
]

REPO = Path(__file__).resolve().parents[2]
PREFIX = REPO / ".e2e" / "npm"
INSTALL_SCRIPT = "scripts/install-agent-clis.sh"
OPT_OUT = "CCLARK_E2E_OPT_OUT"
CLAUDE_VERSION = "2.1.197"
FAKE_SECRET = "fake-key-0123456789abcdefghij"
# Any stray outbound call fails at once: nothing listens on the discard port.
DEAD_PROXY = "http://127.0.0.1:9"

# Variables a developer's shell may hold that would override the seeded setup (a real key shows
# Claude's "use this API key?" dialog; a config dir moves the files). Drop them from the
# environment the tmux server inherits, e.g. with monkeypatch.delenv(name, raising=False).
INHERITED_ENV_TO_DROP = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_MODEL",
    "CLAUDE_CONFIG_DIR",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "GOOGLE_API_KEY",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GEMINI_MODEL",
    "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
)


def agent_cli(name: str) -> Path:
    """The pinned CLI ``name`` (claude, codex, gemini) installed under .e2e/npm/bin.

    Fails the calling test when it is missing, or skips it when CCLARK_E2E_OPT_OUT=1 (a
    developer's explicit local opt-out; CI never sets it).
    """
    path = PREFIX / "bin" / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    reason = f"{path} is missing: run `bash {INSTALL_SCRIPT}` (from {REPO})"
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"{reason}; skipped because {OPT_OUT}=1")
    pytest.fail(f"{reason}, or set {OPT_OUT}=1 to skip the e2e tests locally", pytrace=False)


def seed_agent_home(
    home: Path, *, trusted_dirs: Sequence[Path], apis: FakeModelAPIs, retries: bool = True
) -> dict[str, dict[str, str]]:
    """Write the first-run state of all three CLIs into ``home``; return each one's extra env.

    ``trusted_dirs`` (the working directories the CLIs will run in) get no trust dialog. The
    result maps "claude", "codex" and "gemini" to the variables to add to HOME=``home``.
    Without ``retries`` a CLI reports a refused model request at once (each retries for
    minutes by default).
    """
    dirs = _spellings(trusted_dirs)
    _seed_claude(home, dirs)
    _seed_codex(home, dirs, apis, retries=retries)
    _seed_gemini(home, retries=retries)
    offline = {
        "HTTPS_PROXY": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    claude = {
        **offline,
        "ANTHROPIC_BASE_URL": apis.anthropic_url,
        # A bearer token, unlike ANTHROPIC_API_KEY, shows no "use this API key?" dialog.
        "ANTHROPIC_AUTH_TOKEN": f"sk-ant-{FAKE_SECRET}",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        # Without it github.com and downloads.claude.ai are still contacted.
        "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
    }
    if os.geteuid() == 0:
        claude["IS_SANDBOX"] = "1"  # --dangerously-skip-permissions refuses root without it
    if not retries:
        claude["CLAUDE_CODE_MAX_RETRIES"] = "0"
    codex = {**offline, "CODEX_HOME": str(home / ".codex"), "FAKE_OPENAI_KEY": FAKE_SECRET}
    gemini = {
        **offline,
        "GEMINI_CLI_HOME": str(home),  # an inherited one would move ~/.gemini elsewhere
        "GEMINI_API_KEY": FAKE_SECRET,
        "GOOGLE_GEMINI_BASE_URL": apis.gemini_url,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
        # Gemini refuses its TUI (exit 42) when it believes it runs in CI, as CI runs do.
        "CI": "false",
    }
    return {"claude": claude, "codex": codex, "gemini": gemini}


def _spellings(dirs: Sequence[Path]) -> list[str]:
    """Each directory as given and resolved: the CLIs key trust by their realpath cwd."""
    seen: dict[str, None] = {}
    for folder in dirs:
        seen[str(Path(folder).absolute())] = None
        seen[str(Path(folder).resolve())] = None
    return list(seen)


def _update_json(path: Path, values: dict[str, Any]) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _seed_claude(home: Path, dirs: list[str]) -> None:
    trusted = {"hasTrustDialogAccepted": True, "projectOnboardingSeenCount": 1, "allowedTools": []}
    _update_json(
        home / ".claude.json",
        {
            # Without it the first start checks api.anthropic.com itself and exits 1.
            "hasCompletedOnboarding": True,
            "lastReleaseNotesSeen": CLAUDE_VERSION,
            "numStartups": 1,
            "projects": {folder: dict(trusted) for folder in dirs},
        },
    )
    _update_json(home / ".claude" / "settings.json", {"skipDangerousModePermissionPrompt": True})


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _seed_codex(home: Path, dirs: list[str], apis: FakeModelAPIs, *, retries: bool) -> None:
    lines = [
        'model = "fake-model"',
        'model_provider = "fake"',
        "check_for_update_on_startup = false",
        "",
        "[model_providers.fake]",
        'name = "Fake"',
        f"base_url = {_toml(apis.openai_url)}",
        'env_key = "FAKE_OPENAI_KEY"',
        'wire_api = "responses"',
        *([] if retries else ["request_max_retries = 0", "stream_max_retries = 0"]),
    ]
    for folder in dirs:
        lines += ["", f"[projects.{_toml(folder)}]", 'trust_level = "trusted"']
    path = home / ".codex" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _seed_gemini(home: Path, *, retries: bool) -> None:
    general: dict[str, Any] = {"disableAutoUpdate": True, "disableUpdateNag": True}
    if not retries:
        general["maxAttempts"] = 1
    _update_json(
        home / ".gemini" / "settings.json",
        {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "general": general,
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
        },
    )


def home_pids(home: Path) -> list[int]:
    """Pids of the live processes whose environment holds HOME=``home`` (this one excluded)."""
    marker = b"HOME=" + os.fsencode(home)
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


async def kill_home_processes(home: Path, *, within: float = 5.0) -> list[int]:
    """SIGTERM every process running with HOME=``home``, SIGKILL what is left after ``within`` s.

    This is how a test ends what the CLIs leave behind, such as Codex's ``codex app-server``
    daemon, which is reparented to init: HOME is the test's own temp folder, so nothing else
    matches. Polls /proc every 50 ms; safe to cancel. Returns every pid signalled.
    """
    signalled: set[int] = set()
    deadline = time.monotonic() + within
    while pids := home_pids(home):
        late = time.monotonic() > deadline
        for pid in pids:
            if late or pid not in signalled:
                _signal(pid, signal.SIGKILL if late else signal.SIGTERM)
                signalled.add(pid)
        if late:
            break
        await asyncio.sleep(0.05)
    return sorted(signalled)


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited between the scan and the signal
        os.kill(pid, signum)
