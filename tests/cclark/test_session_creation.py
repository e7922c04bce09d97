"""The #new wizard as a state machine over real folders in a temp workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from cclark.handlers.session_creation import Launch, ProviderChoice, Stage, Wizard, WizardState
from unified_icc import Workspace

PROVIDERS = [ProviderChoice(name="claude", installed=True),
             ProviderChoice(name="codex", installed=False),
             ProviderChoice(name="gemini", installed=True),
             ProviderChoice(name="shell", installed=True)]  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "projects"
    (folder / "alpha").mkdir(parents=True)
    (folder / "beta").mkdir()
    (tmp_path / "outside").mkdir()
    (folder / "escape").symlink_to(tmp_path / "outside")
    return folder.resolve()


def _wizard(*roots: Path) -> Wizard:
    return Wizard(workspace=Workspace(roots), providers=PROVIDERS, timeout=600)


def _run(wizard: Wizard, *replies: str, text: str = "") -> tuple[object, list[str]]:
    state, answer = wizard.start(text, now=0)
    answers = [answer]
    for reply in replies:
        assert isinstance(state, WizardState), answers
        state, answer = wizard.step(state, reply, now=1)
        answers.append(answer)
    return state, answers


def test_mkdir_ok_claude_standard_launches_in_the_new_folder(root: Path) -> None:
    done, answers = _run(_wizard(root), "#mkdir demo", "ok", "claude", "standard",
                         text="fix the bug")  # fmt: skip

    assert done == Launch(path=root / "demo", provider="claude", mode="normal", text="fix the bug")
    assert (root / "demo").is_dir()
    assert "1. alpha/" in answers[0]
    assert "ends after 10 min" in answers[0]
    assert "2. codex (not installed)" in answers[2]


def test_numbers_names_and_dot_dot_navigate_and_shell_skips_the_mode(root: Path) -> None:
    done, _ = _run(_wizard(root), "1", "..", "beta", "ok", "4")

    assert done == Launch(path=root / "beta", provider="shell", mode="normal", text="")


def test_yolo_by_number(root: Path) -> None:
    done, _ = _run(_wizard(root), "ok", "1", "2")

    assert done == Launch(path=root, provider="claude", mode="yolo", text="")


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        ("..", "is a workspace root: you cannot go above it"),
        ("#select /etc", "outside the workspace folders"),
        ("#mkdir ../x", "use a single folder name"),
        ("#mkdir alpha", "'alpha' already exists here"),
        ("escape", "outside the workspace folders"),
        ("#select escape", "outside the workspace folders"),
        ("#mkdir " + "x" * 256, "longer than 255 bytes"),
        ("#mkdir a\x07b", "use a single folder name"),
        ("nowhere", "'nowhere' is not a folder here"),
        ("9", "'9' is not a folder here"),
        ("²", "'²' is not a folder here"),
        ("①", "'①' is not a folder here"),
        ("5" * 5000, f"'{'5' * 60}…' is not a folder here"),
        ("x" * 20_000, f"'{'x' * 60}…' is not a folder here"),
        ("#select " + "y" * 300, "a folder name in it is longer than 255 bytes"),
        ("#select alpha/" + "é" * 130, "a folder name in it is longer than 255 bytes"),
        ("#mkdir " + "z" * 300, "a folder name in it is longer than 255 bytes"),
        ("#select " + "a/" * 2100, "the path is longer than 4095 bytes"),
        ("#mkdir ~", "'~' means your home folder only in a shell"),
        ("#mkdir ~/x", "use a single folder name"),
        ("#mkdir $(id)", "#mkdir does not run a shell"),
        ("#mkdir `id`", "#mkdir does not run a shell"),
        ("#mkdir -rf", "#mkdir does not run a shell"),
        ("#mkdir a\u202eb", "invisible or formatting characters"),
        ("#mkdir a\ud800", "invisible or formatting characters"),
        ("#select a\udc80b", "cannot be part of a file name"),
    ],
)
def test_directory_refusals_say_why_and_stay_put(root: Path, reply: str, says: str) -> None:
    state, answers = _run(_wizard(root), reply)

    assert says in answers[-1]
    assert isinstance(state, WizardState)
    assert (state.stage, state.cwd) == (Stage.DIRECTORY, root)
    assert not (root.parent / "x").exists()
    assert sorted(p.name for p in root.iterdir()) == ["alpha", "beta", "escape"]


def test_a_missing_provider_cannot_be_chosen(root: Path) -> None:
    state, answers = _run(_wizard(root), "ok", "codex")

    assert "codex is not installed" in answers[-1]
    assert isinstance(state, WizardState)
    assert state.stage is Stage.PROVIDER


def test_cancel_ends_the_wizard(root: Path) -> None:
    state, answers = _run(_wizard(root), "ok", "#cancel")

    assert state is None
    assert answers[-1] == "Cancelled: no session was started."


def test_several_roots_are_offered_first(root: Path, tmp_path: Path) -> None:
    other = (tmp_path / "other").resolve()
    other.mkdir()

    done, answers = _run(_wizard(root, other), "2", "ok", "shell")

    assert "Choose a workspace" in answers[0]
    assert done == Launch(path=other, provider="shell", mode="normal", text="")


def test_no_roots_means_no_wizard(tmp_path: Path) -> None:
    state, answer = Wizard(workspace=Workspace([]), providers=PROVIDERS, timeout=1).start("", now=0)

    assert state is None
    assert "gateway.workspace_roots" in answer


def test_the_wizard_times_out(root: Path) -> None:
    wizard = _wizard(root)
    state, _ = wizard.start("", now=0)
    assert isinstance(state, WizardState)

    assert not wizard.expired(state, now=599)
    assert wizard.expired(state, now=601)


def test_a_failing_step_answers_and_keeps_the_wizard_where_it_was(root: Path) -> None:
    wizard = _wizard(root)
    state, _ = wizard.start("", now=0)
    assert isinstance(state, WizardState)
    state, _ = wizard.step(state, "beta", now=1)
    assert isinstance(state, WizardState)
    (root / "beta").rmdir()  # removed at the desk while the wizard waits

    after, answer = wizard.step(state, "#mkdir new", now=2)
    again, _ = wizard.step(after, "..", now=3)  # type: ignore[arg-type]

    assert answer == "Cannot create 'new': No such file or directory."
    assert isinstance(after, WizardState)
    assert (after.stage, after.cwd) == (Stage.DIRECTORY, root / "beta")
    assert isinstance(again, WizardState)
    assert again.cwd == root
