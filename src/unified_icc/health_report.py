"""HealthReporter: what status tools see of the gateway, and pictures of its windows.

Owns the health report (tmux session, windows' last status, installed providers with their
versions, asked once), the read-only survey of recorded and live windows, and rendering a
window's screen to PNG. Changes nothing; knows nothing of chats.
"""

from __future__ import annotations

import asyncio
from typing import Final

from unified_icc.errors import TmuxError
from unified_icc.persistence import StateFile
from unified_icc.providers import Provider, ProviderRegistry
from unified_icc.screen_watch import ScreenWatch
from unified_icc.terminal import ScreenshotRenderer, ScreenshotStyle
from unified_icc.terminal.crop import ContentCrop
from unified_icc.terminal.prompt_patterns import captured_version
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

# A phone shows a picture about 390 px wide and lets the user zoom in: crop to the content and
# draw it twice as large, so the zoomed text is sharp rather than an enlarged blur.
_PHONE_SCALE: Final = 2


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
        self._versions: dict[str, ProviderHealth] = {}  # per provider, asked once
        self._renderers: dict[bool, ScreenshotRenderer] = {}  # by full, made on first use

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
                             windows=windows, providers=await self._all_providers())  # fmt: skip

    async def survey(self) -> Survey:
        """See UnifiedICC.survey."""
        snapshot = self._state_file.load(repair=False)
        panes = await self._backend.list_panes(self._session)
        return build_survey(snapshot.windows, snapshot.bindings, panes, self._providers)

    async def screenshot(self, record: WindowRecord, *, full: bool = False) -> bytes | None:
        """The window's screen as PNG; None when the pane is gone.

        full: the whole pane at the default scale. Otherwise the cells holding content and the
        cursor's line, with a one-cell margin, at twice the scale when they fit in half the
        pane's width (see UnifiedICC).
        """
        ansi = await self._backend.capture(record.window_id, ansi=True)
        panes = await self._backend.list_panes(self._session)
        pane = next((p for p in panes if p.window_id == record.window_id), None)
        if pane is None:
            return None
        if full:
            return await asyncio.to_thread(self._renderer(full=True).render, ansi,
                                           columns=pane.width, rows=pane.height)  # fmt: skip
        crop = ContentCrop(cursor=await self._backend.cursor(record.window_id))
        return await asyncio.to_thread(self._phone_picture, ansi, pane.width, pane.height, crop)

    def _phone_picture(self, ansi: str, columns: int, rows: int, crop: ContentCrop) -> bytes:
        """The crop at twice the scale, or at the normal scale when the content is more than
        half the pane wide: a picture never wider than the whole pane's (a wide status line
        at twice the scale would be harder to read on a phone, not easier)."""
        phone = self._renderer(full=False)
        box = phone.content_box(ansi, columns=columns, rows=rows, crop=crop)
        renderer = phone if box.columns * _PHONE_SCALE <= columns else self._renderer(full=True)
        return renderer.render(ansi, columns=columns, rows=rows, crop=crop)

    def _renderer(self, *, full: bool) -> ScreenshotRenderer:
        # Kept between screenshots: loading the fonts and drawing glyphs is the slow part.
        if full not in self._renderers:
            scale = 1 if full else _PHONE_SCALE
            self._renderers[full] = ScreenshotRenderer(style=ScreenshotStyle(scale=scale))
        return self._renderers[full]

    async def provider(self, name: str) -> ProviderHealth:
        """One provider's health: its CLI is asked its version once (in a thread).

        Raises: UnknownProviderError."""
        known = self._versions.get(name)
        if known is None:
            provider = self._providers.get(name)
            known = self._versions[name] = await asyncio.to_thread(_provider_health, provider)
        return known

    async def _all_providers(self) -> tuple[ProviderHealth, ...]:
        return tuple([await self.provider(p.name) for p in self._providers.all()])


def _provider_health(provider: Provider) -> ProviderHealth:
    """Blocking: asks the CLI its version."""
    return ProviderHealth(
        name=provider.name,
        installed=provider.is_installed(),
        version=provider.version(),
        captured=captured_version(provider.name),
    )
