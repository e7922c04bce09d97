"""HealthReporter: what status tools see of the gateway, and pictures of its windows.

Owns the health report (tmux session, windows' last status, installed providers with their
versions, asked once), the read-only survey of recorded and live windows, and rendering a
window's screen to PNG. Changes nothing; knows nothing of chats.
"""

from __future__ import annotations

import asyncio

from unified_icc.errors import TmuxError
from unified_icc.persistence import StateFile
from unified_icc.providers import ProviderRegistry
from unified_icc.screen_watch import ScreenWatch
from unified_icc.terminal import ScreenshotRenderer
from unified_icc.tmux import TmuxBackend
from unified_icc.window_store import WindowRecord, WindowStore
from unified_icc.window_views import (
    GatewayHealth,
    ProviderHealth,
    Survey,
    WindowHealth,
    build_survey,
)

__all__ = ["HealthReporter"]


class HealthReporter:
    def __init__(
        self,
        *,
        backend: TmuxBackend,
        session: str,
        store: WindowStore,
        screens: ScreenWatch,
        providers: ProviderRegistry,
        state_file: StateFile,
    ) -> None:
        self._backend = backend
        self._session = session
        self._store = store
        self._screens = screens
        self._providers = providers
        self._state_file = state_file
        self._versions: tuple[ProviderHealth, ...] | None = None
        self._renderer: ScreenshotRenderer | None = None

    async def health(self) -> GatewayHealth:
        """See UnifiedICC.health."""
        try:
            tmux_ok, error = await self._backend.has_session(self._session), None
        except TmuxError as exc:
            tmux_ok, error = False, str(exc)
        if not tmux_ok and error is None:
            error = f"tmux session {self._session!r} is not running"
        windows = tuple(
            WindowHealth(
                window_id=r.window_id,
                provider=r.provider,
                dead=r.dead,
                status=self._screens.last(r.record_id)[0],
            )
            for r in self._store
        )
        return GatewayHealth(tmux_ok=tmux_ok, tmux_error=error, session=self._session,
                             windows=windows, providers=await self._provider_health())  # fmt: skip

    async def survey(self) -> Survey:
        """See UnifiedICC.survey."""
        snapshot = self._state_file.load(repair=False)
        panes = await self._backend.list_panes(self._session)
        return build_survey(snapshot.windows, snapshot.bindings, panes, self._providers)

    async def screenshot(self, record: WindowRecord) -> bytes | None:
        """The window's screen as PNG at its pane's size; None when the pane is gone."""
        ansi = await self._backend.capture(record.window_id, ansi=True)
        panes = await self._backend.list_panes(self._session)
        pane = next((p for p in panes if p.window_id == record.window_id), None)
        if pane is None:
            return None
        if self._renderer is None:
            self._renderer = ScreenshotRenderer()
        renderer = self._renderer
        return await asyncio.to_thread(renderer.render, ansi, columns=pane.width, rows=pane.height)

    async def _provider_health(self) -> tuple[ProviderHealth, ...]:
        if self._versions is None:
            self._versions = await asyncio.to_thread(
                lambda: tuple(
                    ProviderHealth(name=p.name, installed=p.is_installed(), version=p.version())
                    for p in self._providers.all()
                )
            )
        return self._versions
