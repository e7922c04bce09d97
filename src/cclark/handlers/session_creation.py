"""The ``#new`` wizard: directory, then provider, then mode, as an explicit state machine.

Owns the wizard's stages, what each accepts, its prompts and refusals, and keeping every
directory inside the workspace roots (after resolving symlinks and ``..``). Pure apart from
listing and creating directories; it does not start windows (the message handler does, with
the ``Launch`` it returns) and knows nothing of Feishu.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cclark.handlers.user_input import folder_name_problem, parse_choice, path_problem, quoted
from unified_icc import Workspace

__all__ = ["Choice", "Launch", "ProviderChoice", "Stage", "Wizard", "WizardState"]

_MAX_LISTED = 30
MODES = (("standard", "normal", "asks before risky actions"),
         ("yolo", "yolo", "runs everything without asking"))  # fmt: skip


class Stage(StrEnum):
    ROOT = "root"
    DIRECTORY = "directory"
    PROVIDER = "provider"
    MODE = "mode"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderChoice:
    name: str
    installed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class WizardState:
    stage: Stage
    started_at: float
    text: str = ""
    cwd: Path | None = None
    listing: tuple[str, ...] = ()
    provider: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """One answer the current stage takes, offered as a button: tapping it says ``say``."""

    label: str
    say: str
    risky: bool = False  # shown as a warning (yolo)


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch:
    """The wizard is done: open this window, then send ``text`` (if any) to it."""

    path: Path
    provider: str
    mode: str
    text: str


Step = tuple[WizardState | Launch | None, str]


class Wizard:
    def __init__(
        self, *, workspace: Workspace, providers: Sequence[ProviderChoice], timeout: float
    ) -> None:
        self._workspace = workspace
        self._providers = tuple(providers)
        self.timeout = timeout

    def start(self, text: str, *, now: float) -> Step:
        """Begin at the only root, or ask which root when there are several."""
        roots = self._workspace.roots
        if not roots:
            return None, ("No workspace folder is configured, so #new cannot choose a directory. "
                          "Ask the administrator to set gateway.workspace_roots.")  # fmt: skip
        minutes = round(self.timeout / 60)
        head = f"New session (send #cancel to stop; this wizard ends after {minutes} min idle).\n"
        if len(roots) > 1:
            state = WizardState(stage=Stage.ROOT, started_at=now, text=text)
            listed = "\n".join(f"{i}. {root}" for i, root in enumerate(roots, 1))
            return state, f"{head}Choose a workspace:\n{listed}"
        return self._enter(WizardState(stage=Stage.DIRECTORY, started_at=now, text=text),
                           roots[0], head=head)  # fmt: skip

    def expired(self, state: WizardState, *, now: float) -> bool:
        return now - state.started_at > self.timeout

    def step(self, state: WizardState, reply: str, *, now: float) -> Step:
        """Apply one message: the next state (a Launch when done, None when ended), the answer."""
        state = dataclasses.replace(state, started_at=now)
        answer = reply.strip()
        if answer.lower() == "#cancel":
            return None, "Cancelled: no session was started."
        try:
            return self._apply(state, answer)
        except OSError as exc:
            # The folder changed under us, or the disk refused: the wizard stays where it was.
            return state, (f"That did not work: {exc.strerror or exc}. Nothing was changed; "
                           "reply again, or #cancel.")  # fmt: skip

    def _apply(self, state: WizardState, answer: str) -> Step:
        if state.stage is Stage.ROOT:
            return self._root(state, answer)
        if state.stage is Stage.DIRECTORY:
            return self._directory(state, answer)
        if state.stage is Stage.PROVIDER:
            return self._provider(state, answer)
        return self._mode(state, answer)

    def choices(self, state: WizardState) -> tuple[Choice, ...]:
        """The answers of state's stage that a tap can give (typing works for all of them)."""
        if state.stage is Stage.ROOT:
            return tuple(Choice(label=str(root), say=str(i))
                         for i, root in enumerate(self._workspace.roots, 1))  # fmt: skip
        if state.stage is Stage.DIRECTORY:
            folders = [Choice(label=f"📁 {name}", say=str(i))
                       for i, name in enumerate(state.listing, 1)]  # fmt: skip
            at_root = self._here(state) in self._workspace.roots
            up = () if at_root else (Choice(label="⬆ Up", say=".."),)
            return (Choice(label="✅ Use this folder", say="ok"), *up, *folders)
        if state.stage is Stage.PROVIDER:
            return tuple(Choice(label=p.name, say=p.name) for p in self._providers if p.installed)
        return tuple(Choice(label=name, say=name, risky=gateway == "yolo")
                     for name, gateway, _ in MODES)  # fmt: skip

    # -- stages --------------------------------------------------------------------------------

    def _root(self, state: WizardState, answer: str) -> Step:
        roots = self._workspace.roots
        number = parse_choice(answer)
        if number is not None and 1 <= number <= len(roots):
            chosen = roots[number - 1]
            return self._enter(dataclasses.replace(state, stage=Stage.DIRECTORY), chosen)
        return state, f"Reply with a number from 1 to {len(roots)}, or #cancel."

    def _directory(self, state: WizardState, answer: str) -> Step:
        here = self._here(state)
        lowered = answer.lower()
        if lowered == "ok":
            return self._ask_provider(dataclasses.replace(state, stage=Stage.PROVIDER))
        if answer == "..":
            if here in self._workspace.roots:
                return state, f"{here} is a workspace root: you cannot go above it."
            return self._enter(state, here.parent)
        if lowered.startswith("#select"):
            return self._select(state, answer[len("#select"):].strip())
        if lowered.startswith("#mkdir"):
            return self._mkdir(state, answer[len("#mkdir"):].strip())
        number = parse_choice(answer)
        if number is not None and 1 <= number <= len(state.listing):
            return self._enter(state, here / state.listing[number - 1])
        if answer in state.listing or self._is_subfolder(here, answer):
            return self._enter(state, here / answer)
        return state, (f"{quoted(answer)} is not a folder here. Reply with a number, a "
                       "folder name, '..', #select <path>, #mkdir <name>, or ok to use "
                       f"{here}.")  # fmt: skip

    def _select(self, state: WizardState, raw: str) -> Step:
        if not raw:
            return state, "Send #select followed by a path, e.g. #select projects/app."
        problem = path_problem(raw)
        if problem:
            return state, f"Cannot select {quoted(raw)}: {problem}."
        target = Path(os.path.expanduser(raw))
        return self._enter(state, target if target.is_absolute() else self._here(state) / target)

    def _mkdir(self, state: WizardState, name: str) -> Step:
        target = self._here(state) / name
        problem = folder_name_problem(name) or path_problem(str(target))
        if problem:
            return state, f"Cannot create {quoted(name)}: {problem}."
        if target.exists() or target.is_symlink():
            return state, (f"{quoted(name)} already exists here: enter it by name, or pick "
                           "another name.")  # fmt: skip
        try:
            target.mkdir(mode=0o755)
        except OSError as exc:
            return state, f"Cannot create {quoted(name)}: {exc.strerror or exc}."
        return self._enter(state, target, head=f"Created {target}.\n")

    def _provider(self, state: WizardState, answer: str) -> Step:
        chosen = _pick(answer, [p.name for p in self._providers])
        provider = next((p for p in self._providers if p.name == chosen), None)
        if provider is None:
            problem = f"{quoted(answer)} is not one of the choices.\n"
            return self._ask_provider(state, problem=problem)
        if not provider.installed:
            return self._ask_provider(state, problem=f"{provider.name} is not installed.\n")
        if provider.name == "shell":
            return Launch(path=self._here(state), provider="shell", mode="normal",
                          text=state.text), ""  # fmt: skip
        listed = "\n".join(f"{i}. {name} — {what}" for i, (name, _, what) in enumerate(MODES, 1))
        next_state = dataclasses.replace(state, stage=Stage.MODE, provider=provider.name)
        return next_state, f"Mode for {provider.name}:\n{listed}"

    def _mode(self, state: WizardState, answer: str) -> Step:
        chosen = _pick(answer, [name for name, _, _ in MODES])
        mode = next((gateway for name, gateway, _ in MODES if name == chosen), None)
        if mode is None:
            return state, "Reply 1 (standard) or 2 (yolo), or #cancel."
        provider = state.provider or "claude"
        return Launch(path=self._here(state), provider=provider, mode=mode, text=state.text), ""

    # -- helpers -------------------------------------------------------------------------------

    def _enter(self, state: WizardState, target: Path, *, head: str = "") -> Step:
        problem = path_problem(str(target))
        if problem:
            return state, f"Cannot go there: {problem}."
        resolved = Path(os.path.realpath(target))
        if not self._workspace.contains(resolved):
            return state, f"{target} is outside the workspace folders: that is not allowed."
        if not resolved.is_dir():
            return state, f"{target} is not a folder."
        listing = _subfolders(resolved)
        entered = dataclasses.replace(state, cwd=resolved, listing=listing)
        return entered, head + _describe(resolved, listing)

    @staticmethod
    def _is_subfolder(here: Path, name: str) -> bool:
        # One name, checked as text first: a long or odd one would make the file system raise.
        if "/" in name or path_problem(str(here / name)):
            return False
        return (here / name).is_dir()

    def _here(self, state: WizardState) -> Path:
        # Every stage after the first has a folder; a state without one starts at the root.
        return state.cwd or self._workspace.roots[0]

    def _ask_provider(self, state: WizardState, *, problem: str = "") -> Step:
        lines = [f"{i}. {p.name}" + ("" if p.installed else " (not installed)")
                 for i, p in enumerate(self._providers, 1)]  # fmt: skip
        return state, f"{problem}Which agent in {state.cwd}?\n" + "\n".join(lines)


def _subfolders(folder: Path) -> tuple[str, ...]:
    try:
        names = sorted(e.name for e in os.scandir(folder)
                       if e.is_dir() and not e.name.startswith("."))  # fmt: skip
    except OSError:
        return ()
    return tuple(names[:_MAX_LISTED])


def _describe(folder: Path, listing: tuple[str, ...]) -> str:
    shown = "\n".join(f"{i}. {name}/" for i, name in enumerate(listing, 1)) or "(no sub-folders)"
    return (f"Folder: {folder}\n{shown}\nReply with a number or name to enter, '..' to go up, "
            "#mkdir <name> to create one, #select <path>, or ok to use this folder.")  # fmt: skip


def _pick(answer: str, names: Sequence[str]) -> str | None:
    number = parse_choice(answer)
    if number is not None and 1 <= number <= len(names):
        return names[number - 1]
    lowered = answer.lower()
    return lowered if lowered in names else None
