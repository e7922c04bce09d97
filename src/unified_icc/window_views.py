"""The read-only shapes callers see of windows: WindowInfo, OrphanWindow and the Survey.

Owns building them from records and pane listings (including spotting orphaned agent
windows); performs no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from unified_icc.events import AgentStatus
from unified_icc.ids import SCRATCH_PREFIX, ChannelId, SessionId, WindowId
from unified_icc.providers import ProviderRegistry
from unified_icc.tmux import PaneInfo
from unified_icc.window_store import WindowRecord, WindowStore

__all__ = [
    "GatewayHealth",
    "OrphanWindow",
    "ProviderHealth",
    "Survey",
    "SurveyRow",
    "WindowHealth",
    "WindowInfo",
    "build_survey",
    "find_orphans",
]


_VERSION = re.compile(r"\d+\.\d+\.\d+")


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowInfo:
    """A window of this gateway, as callers see it."""

    window_id: WindowId
    provider: str
    mode: str
    cwd: Path
    created_at: str
    session_id: SessionId | None = None
    channel_id: ChannelId | None = None
    dead: bool = False
    exit_status: int | None = None
    asleep: bool = False
    idle_timeout: float | None = None
    turn_timeout: float | None = None

    @classmethod
    def from_record(cls, record: WindowRecord) -> WindowInfo:
        return cls(
            window_id=record.window_id,
            provider=record.provider,
            mode=record.mode,
            cwd=Path(record.cwd),
            created_at=record.created_at,
            session_id=record.session_id,
            channel_id=record.channel_id,
            dead=record.dead,
            exit_status=record.exit_status,
            asleep=record.asleep,
            idle_timeout=record.idle_timeout,
            turn_timeout=record.turn_timeout,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrphanWindow:
    """An agent CLI window in our tmux session that no record of ours owns."""

    window_id: WindowId
    window_name: str
    provider: str
    command: str
    cwd: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyRow:
    window: WindowInfo
    state: Literal["running", "exited", "gone"]
    channels: tuple[ChannelId, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Survey:
    windows: tuple[SurveyRow, ...]
    orphans: tuple[OrphanWindow, ...]
    tmux_panes: int


def find_orphans(
    panes: tuple[PaneInfo, ...], store: WindowStore, providers: ProviderRegistry
) -> tuple[OrphanWindow, ...]:
    """Agent CLI windows among ``panes`` that no record in ``store`` owns."""
    orphans: dict[WindowId, OrphanWindow] = {}
    for pane in panes:
        if pane.window_id in orphans or store.get(pane.record_id) is not None:
            continue
        if pane.record_id.startswith(SCRATCH_PREFIX):  # a smoke test's, gone in a moment
            continue
        provider = providers.identify(pane.current_command, pane.start_command)
        if provider is None or pane.dead:
            continue
        orphans[pane.window_id] = OrphanWindow(
            window_id=pane.window_id,
            window_name=pane.window_name,
            provider=provider.name,
            command=pane.start_command or pane.current_command,
            cwd=pane.current_path,
        )
    return tuple(orphans.values())


def build_survey(
    records: tuple[WindowRecord, ...],
    bindings: Mapping[ChannelId, WindowId],
    panes: tuple[PaneInfo, ...],
    providers: ProviderRegistry,
) -> Survey:
    """Recorded windows with their live state, plus the orphans among the other panes."""
    live = {pane.record_id: pane for pane in panes if pane.record_id}
    rows = []
    for record in sorted(records, key=lambda r: r.created_at):
        pane = live.get(record.record_id)
        state: Literal["running", "exited", "gone"] = (
            "gone" if pane is None else ("exited" if pane.dead else "running")
        )
        channels = tuple(c for c, w in bindings.items() if w == record.window_id)
        rows.append(SurveyRow(window=WindowInfo.from_record(record), state=state,
                              channels=channels))  # fmt: skip
    known = WindowStore(records)
    return Survey(windows=tuple(rows), orphans=find_orphans(panes, known, providers),
                  tmux_panes=len(panes))  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowHealth:
    window_id: WindowId
    provider: str
    status: AgentStatus | None
    dead: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderHealth:
    """A provider's CLI: installed, the version it reports, and the version whose screens the
    parsers were captured from (None: no screens to read, a shell)."""

    name: str
    installed: bool
    version: str | None
    captured: str | None = None

    @property
    def version_differs(self) -> bool:
        """Whether the installed CLI is not the version its screens were captured from (its
        prompts may then be misread): judged on the x.y.z its version line names."""
        if self.version is None or self.captured is None:
            return False
        found = _VERSION.search(self.version)
        return found is None or found.group(0) != self.captured

    @property
    def warning(self) -> str | None:
        """What to tell a person when the version differs, else None."""
        if not self.version_differs:
            return None
        return (f"{self.name} {self.version} is installed, but its screens were read from "
                f"{self.captured}: prompts may be misread (pin {self.captured}, or check "
                "docs/providers.md for an update)")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayHealth:
    """What a health endpoint shows of the gateway; holds no secrets."""

    tmux_ok: bool
    tmux_error: str | None
    session: str
    windows: tuple[WindowHealth, ...]
    providers: tuple[ProviderHealth, ...]
