"""Provider launch and resume argv, modes, pacing and prompt keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from unified_icc import (
    ProviderError,
    ProviderSettings,
    ProvidersSettings,
    SessionId,
    UnknownProviderError,
    UnsupportedModeError,
)
from unified_icc.providers import HookWiring, Mode, ProviderRegistry, parse_mode
from unified_icc.window_views import ProviderHealth

SID = SessionId("0b6a4c9e-8a53-4a43-9d55-1c7a9a1f2e10")


class LaunchCase(NamedTuple):
    test_id: str
    provider: str
    mode: Mode
    argv: tuple[str, ...]


LAUNCH_CASES = [
    LaunchCase("claude-normal", "claude", Mode.NORMAL,
               ("claude", "--session-id", SID, "--permission-mode", "default")),
    LaunchCase("claude-yolo", "claude", Mode.YOLO,
               ("claude", "--session-id", SID, "--dangerously-skip-permissions")),
    LaunchCase("codex-normal", "codex", Mode.NORMAL,
               ("codex", "--no-daemon", "--ask-for-approval", "on-request", "--sandbox",
                "workspace-write")),
    LaunchCase("codex-yolo", "codex", Mode.YOLO,
               ("codex", "--no-daemon", "--dangerously-bypass-approvals-and-sandbox")),
    LaunchCase("gemini-normal", "gemini", Mode.NORMAL, ("gemini", "--session-id", SID)),
    LaunchCase("gemini-yolo", "gemini", Mode.YOLO, ("gemini", "--session-id", SID, "--yolo")),
    LaunchCase("shell", "shell", Mode.NORMAL, ("bash",)),
]  # fmt: skip


@pytest.mark.parametrize("case", LAUNCH_CASES, ids=[c.test_id for c in LAUNCH_CASES])
def test_launch_argv_per_provider_and_mode(case: LaunchCase) -> None:
    provider = ProviderRegistry(ProvidersSettings()).get(case.provider)
    session = SID if provider.assigns_session_id else None

    plan = provider.launch(case.mode, session_id=session)

    assert plan.argv == case.argv
    assert plan.session_id == session


RESUME_CASES = [
    LaunchCase("claude", "claude", Mode.NORMAL,
               ("claude", "--resume", SID, "--permission-mode", "default")),
    LaunchCase("codex", "codex", Mode.YOLO,
               ("codex", "--no-daemon", "--dangerously-bypass-approvals-and-sandbox", "resume",
                SID)),
    LaunchCase("gemini", "gemini", Mode.YOLO, ("gemini", "--resume", SID, "--yolo")),
]  # fmt: skip


@pytest.mark.parametrize("case", RESUME_CASES, ids=[c.test_id for c in RESUME_CASES])
def test_resume_argv_reopens_the_session(case: LaunchCase) -> None:
    provider = ProviderRegistry(ProvidersSettings()).get(case.provider)

    assert provider.resume(case.mode, SID).argv == case.argv


def test_configured_command_and_env_are_used() -> None:
    settings = ProvidersSettings(
        claude=ProviderSettings(command="/opt/bin/claude --verbose", env={"IS_SANDBOX": "1"})
    )
    plan = ProviderRegistry(settings).get("claude").launch(Mode.YOLO, session_id=SID)

    assert plan.argv[:2] == ("/opt/bin/claude", "--verbose")
    assert plan.env == {"IS_SANDBOX": "1"}


def test_unparseable_command_is_a_clear_error() -> None:
    settings = ProvidersSettings(codex=ProviderSettings(command="codex 'unclosed"))

    with pytest.raises(ProviderError, match=r"providers\.codex\.command"):
        ProviderRegistry(settings).get("codex").launch(Mode.NORMAL, session_id=None)


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(UnknownProviderError, match="use one of claude, codex, gemini, shell"):
        ProviderRegistry(ProvidersSettings()).get("aider")


def test_shell_has_no_yolo_mode_and_unknown_modes_are_refused() -> None:
    shell = ProviderRegistry(ProvidersSettings()).get("shell")

    with pytest.raises(UnsupportedModeError, match="has no 'yolo' mode"):
        shell.launch(Mode.YOLO, session_id=None)
    with pytest.raises(UnsupportedModeError, match="use one of normal, accept-edits, plan, yolo"):
        parse_mode("standard")
    assert parse_mode(" YOLO ") is Mode.YOLO


def test_submit_pause_and_option_keys() -> None:
    registry = ProviderRegistry(ProvidersSettings())

    assert registry.get("claude").submit_delay == 0
    assert registry.get("codex").submit_delay >= 0.5
    assert [registry.get(name).option_key(2) for name in registry.names] == ["2"] * 4
    with pytest.raises(ValueError, match="numbered 1-9"):
        registry.get("claude").option_key(0)


def test_installed_follows_path(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "gemini").write_text("#!/bin/sh\n")
    (tmp_path / "gemini").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    registry = ProviderRegistry(ProvidersSettings())

    assert registry.get("gemini").is_installed()
    assert not registry.get("codex").is_installed()


def test_identify_recognises_agent_panes() -> None:
    registry = ProviderRegistry(ProvidersSettings())

    assert registry.identify("claude", "claude --resume x").name == "claude"  # type: ignore[union-attr]
    assert registry.identify("node", "node /usr/lib/bin/gemini").name == "gemini"  # type: ignore[union-attr]
    assert registry.identify("bash", "bash") is None


def test_hooks_reach_claude_by_settings_file_and_codex_by_config_overrides() -> None:
    registry = ProviderRegistry(ProvidersSettings())
    wiring = HookWiring(command="/py -m unified_icc.hook --events '/a b' --record r",
                        settings_file=Path("/state/hooks/settings-r.json"))  # fmt: skip

    claude = registry.get("claude").launch(Mode.NORMAL, session_id=SID, hooks=wiring)
    codex = registry.get("codex").launch(Mode.NORMAL, session_id=None, hooks=wiring)

    assert claude.argv[1:3] == ("--settings", "/state/hooks/settings-r.json")
    assert codex.argv[1] == "--dangerously-bypass-hook-trust"
    overrides = [codex.argv[i + 1] for i, a in enumerate(codex.argv) if a == "-c"]
    assert [o.split("=", 1)[0] for o in overrides] == [
        "hooks.SessionStart", "hooks.UserPromptSubmit", "hooks.Stop"
    ]
    command = json.dumps(wiring.command)
    assert overrides[0] == f'hooks.SessionStart=[{{hooks=[{{type="command",command={command}}}]}}]'


def test_gemini_chat_is_found_by_the_session_id_we_gave(tmp_path: Path) -> None:
    chats = tmp_path / ".gemini" / "tmp" / "work" / "chats"
    chats.mkdir(parents=True)
    (chats / f"session-2026-11-21T05-40-{SID[:8]}.jsonl").write_text(
        json.dumps({"sessionId": "someone-else"}) + "\n")  # fmt: skip
    mine = chats / f"session-2026-11-21T05-41-{SID[:8]}.jsonl"
    mine.write_text(json.dumps({"sessionId": SID, "kind": "main"}) + "\n")
    gemini = ProviderRegistry(ProvidersSettings()).get("gemini")

    assert gemini.find_transcript(tmp_path, SID) == mine
    assert gemini.find_transcript(tmp_path, SessionId("ffffffff-0000")) is None


def test_gemini_runs_interactively_even_under_a_ci_environment() -> None:
    registry = ProviderRegistry(ProvidersSettings(gemini=ProviderSettings(env={"X": "1"})))

    plan = registry.get("gemini").launch(Mode.NORMAL, session_id=SID)

    assert plan.env == {"CI": "false", "X": "1"}


@pytest.mark.parametrize(
    ("version", "differs"),
    [("2.1.197 (Claude Code)", False), ("2.1.198 (Claude Code)", True),
     ("claude 12.1.197", True), ("unknown", True), (None, False)],
)  # fmt: skip
def test_a_cli_version_other_than_the_captured_one_is_flagged(
    version: str | None, differs: bool
) -> None:
    health = ProviderHealth(name="claude", installed=True, version=version, captured="2.1.197")

    assert health.version_differs is differs
    assert (health.warning is not None) is differs


@pytest.mark.parametrize(
    ("name", "mode", "flags"),
    [
        ("claude", Mode.ACCEPT_EDITS, ("--permission-mode", "acceptEdits")),
        ("claude", Mode.PLAN, ("--permission-mode", "plan")),
        ("claude", Mode.YOLO, ("--dangerously-skip-permissions",)),
        ("gemini", Mode.ACCEPT_EDITS, ("--approval-mode", "auto_edit")),
        ("gemini", Mode.PLAN, ("--approval-mode", "plan")),
        ("gemini", Mode.YOLO, ("--yolo",)),
        ("codex", Mode.YOLO, ("--dangerously-bypass-approvals-and-sandbox",)),
    ],
)
def test_each_mode_launches_with_the_cli_s_own_flags(
    name: str, mode: Mode, flags: tuple[str, ...]
) -> None:
    argv = ProviderRegistry(ProvidersSettings()).get(name).launch(mode, session_id=None).argv

    assert any(argv[i : i + len(flags)] == flags for i in range(len(argv)))


def test_codex_has_no_plan_or_accept_edits_mode() -> None:
    codex = ProviderRegistry(ProvidersSettings()).get("codex")

    with pytest.raises(UnsupportedModeError, match="has no 'plan' mode: use normal, yolo"):
        codex.launch(Mode.PLAN, session_id=None)
