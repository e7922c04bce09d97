"""What every agent provider answers: launch and resume argv, modes, submit pacing, prompt keys.

Owns the Provider base class and the launch plan it returns; knows nothing of tmux or state.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from unified_icc.config import ProviderSettings
from unified_icc.errors import ProviderError, UnsupportedModeError
from unified_icc.ids import SessionId

__all__ = ["HookWiring", "LaunchPlan", "Mode", "Provider", "parse_mode"]


class Mode(StrEnum):
    """How much the agent may do without asking (each provider supports some of them)."""

    NORMAL = "normal"  # asks before commands and edits (the CLI's default)
    ACCEPT_EDITS = "accept-edits"  # edits files without asking; asks before commands
    PLAN = "plan"  # reads and plans only; asks before doing anything
    YOLO = "yolo"  # never asks


@dataclass(frozen=True, slots=True, kw_only=True)
class HookWiring:
    """How a window's hooks reach the gateway: the command to run and, for CLIs that read
    hooks from a file, where the gateway wrote that file."""

    command: str
    settings_file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LaunchPlan:
    """How to start the agent: its argv, extra environment, and the session id we gave it."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    session_id: SessionId | None = None


def parse_mode(value: str) -> Mode:
    """Return the Mode named ``value``, or raise UnsupportedModeError listing the modes."""
    try:
        return Mode(value.strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in Mode)
        raise UnsupportedModeError(
            f"unknown mode {value!r}: use one of {names}", provider="*"
        ) from None


class Provider:
    """One agent CLI. Subclasses fill the class attributes and the argv hooks."""

    name: ClassVar[str]
    default_command: ClassVar[str]
    modes: ClassVar[frozenset[Mode]] = frozenset({Mode.NORMAL, Mode.YOLO})
    # Modes the CLI cycles through in place with a key (Claude's Shift-Tab), in its order;
    # a switch between others restarts the agent in the new mode, resuming its session.
    mode_cycle: ClassVar[tuple[Mode, ...]] = ()
    mode_cycle_key: ClassVar[str] = "BTab"
    # A key that toggles YOLO in place (Gemini's Ctrl-Y); None: YOLO needs a restart.
    yolo_toggle_key: ClassVar[str | None] = None
    # A menu that sets a mode in place (Codex's /permissions): per mode, the steps (key
    # names, or text typed as it is) and the words the screen then shows.
    mode_menu: ClassVar[Mapping[Mode, tuple[tuple[str, ...], str]]] = {}
    # Seconds between the typed text and Enter; some TUIs swallow an Enter sent sooner.
    submit_delay: ClassVar[float] = 0.0
    # Executable names that identify this CLI in a pane (for orphan windows).
    process_names: ClassVar[frozenset[str]] = frozenset()
    # Whether the gateway chooses the session id at launch.
    assigns_session_id: ClassVar[bool] = False
    # The hook events this CLI runs our hook command for (empty: no hooks).
    hook_events: ClassVar[tuple[str, ...]] = ()
    # Whether the hooks are declared in a settings file the gateway writes (see hook/).
    hook_settings_file: ClassVar[bool] = False
    # Environment the CLI needs to run interactively in a window; config env overrides it.
    base_env: ClassVar[Mapping[str, str]] = {}
    # A CLI that puts an interrupted prompt back into its input box, and the hint it shows
    # after one Escape when a second one will clear that box (None: it does not).
    clear_input_hint: ClassVar[str | None] = None
    # The key that stops the agent's work (a shell ignores Escape: its program needs Ctrl-C).
    interrupt_key: ClassVar[str] = "Escape"
    # Whether the CLI can reopen a session (resume_args); a plain shell starts afresh.
    resumable: ClassVar[bool] = True
    # Whether the input box may show a grey suggestion that nobody typed (Codex, Gemini).
    suggests_input: ClassVar[bool] = False
    # How a message names a file for the agent to read ({path}: relative to its folder);
    # None: never type about files (a shell would run the words as a command).
    file_mention: ClassVar[str | None] = "{path}"

    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings

    @property
    def command(self) -> tuple[str, ...]:
        """The configured command split like a shell, or the default executable."""
        raw = self._settings.command or self.default_command
        try:
            parts = tuple(shlex.split(raw))
        except ValueError as exc:
            raise ProviderError(
                f"providers.{self.name}.command {raw!r} cannot be parsed: {exc}",
                provider=self.name,
            ) from None
        if not parts:
            raise ProviderError(f"providers.{self.name}.command is empty", provider=self.name)
        return parts

    def is_installed(self) -> bool:
        """Whether the command's executable can be found."""
        return shutil.which(self.command[0]) is not None

    def version(self, *, timeout: float = 15.0) -> str | None:
        """The first line ``<command> --version`` prints, or None when it cannot be run.

        Blocking: run it in a thread.
        """
        if not self.is_installed():
            return None
        try:
            done = subprocess.run(
                [*self.command, "--version"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        lines = (done.stdout or done.stderr).strip().splitlines()
        return lines[0][:80] if done.returncode == 0 and lines else None

    def check_mode(self, mode: Mode) -> None:
        if mode not in self.modes:
            names = ", ".join(sorted(m.value for m in self.modes))
            raise UnsupportedModeError(
                f"provider {self.name!r} has no {mode.value!r} mode: use {names}",
                provider=self.name,
            )

    def launch(
        self, mode: Mode, *, session_id: SessionId | None, hooks: HookWiring | None = None
    ) -> LaunchPlan:
        """The plan for a new session in ``mode``.

        ``session_id`` when assigns_session_id; ``hooks`` when hook_events is not empty.
        """
        self.check_mode(mode)
        wiring = self.hook_args(hooks) if hooks is not None else ()
        argv = (*self.command, *wiring, *self.launch_args(mode, session_id))
        return LaunchPlan(argv=argv, env=self._env(), session_id=session_id)

    def resume(
        self, mode: Mode, session_id: SessionId, *, hooks: HookWiring | None = None
    ) -> LaunchPlan:
        """The plan that reopens ``session_id`` in ``mode``."""
        self.check_mode(mode)
        wiring = self.hook_args(hooks) if hooks is not None else ()
        argv = (*self.command, *wiring, *self.resume_args(mode, session_id))
        return LaunchPlan(argv=argv, env=self._env(), session_id=session_id)

    def _env(self) -> dict[str, str]:
        return {**self.base_env, **self._settings.env}

    def option_key(self, number: int) -> str:
        """The key that picks option ``number`` of a prompt on screen."""
        if not 1 <= number <= 9:
            raise ValueError(f"prompt options are numbered 1-9, not {number}")
        return str(number)

    def hook_args(self, hooks: HookWiring) -> tuple[str, ...]:
        return ()

    def find_transcript(self, home: Path, session_id: SessionId) -> Path | None:
        """The transcript of ``session_id`` when it can be found without a hook's help."""
        return None

    def launch_args(self, mode: Mode, session_id: SessionId | None) -> tuple[str, ...]:
        return ()

    def resume_args(self, mode: Mode, session_id: SessionId) -> tuple[str, ...]:
        return self.launch_args(mode, session_id)
