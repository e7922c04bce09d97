"""ChannelRouter: which window each channel talks to, and per-channel settings.

Owns the channel -> window map (one window per channel, any number of channels per window)
and small per-channel settings; pure, no I/O (persistence.py saves it).
"""

from __future__ import annotations

from collections.abc import Mapping

from unified_icc.ids import ChannelId, WindowId

__all__ = ["ChannelRouter", "SettingValue"]

SettingValue = str | int | float | bool | None


class ChannelRouter:
    def __init__(
        self,
        bindings: Mapping[ChannelId, WindowId] | None = None,
        settings: Mapping[ChannelId, Mapping[str, SettingValue]] | None = None,
    ) -> None:
        self._bindings: dict[ChannelId, WindowId] = dict(bindings or {})
        self._settings: dict[ChannelId, dict[str, SettingValue]] = {
            channel: dict(values) for channel, values in (settings or {}).items()
        }

    def resolve_window(self, channel_id: ChannelId) -> WindowId | None:
        """The window the channel is bound to, or None."""
        return self._bindings.get(channel_id)

    def channels_for(self, window_id: WindowId) -> tuple[ChannelId, ...]:
        return tuple(sorted(c for c, w in self._bindings.items() if w == window_id))

    def bind(self, channel_id: ChannelId, window_id: WindowId) -> WindowId | None:
        """Bind the channel to the window; returns the window it was bound to before."""
        previous = self._bindings.get(channel_id)
        self._bindings[channel_id] = window_id
        return previous

    def unbind(self, channel_id: ChannelId) -> WindowId | None:
        return self._bindings.pop(channel_id, None)

    def unbind_window(self, window_id: WindowId) -> tuple[ChannelId, ...]:
        """Drop every binding to the window; returns the channels that were bound."""
        channels = self.channels_for(window_id)
        for channel in channels:
            del self._bindings[channel]
        return channels

    def move_window(self, old: WindowId, new: WindowId) -> None:
        """Point the old window's bindings at its new tmux id (after tmux renumbered it)."""
        for channel in self.channels_for(old):
            self._bindings[channel] = new

    def setting(
        self, channel_id: ChannelId, key: str, default: SettingValue = None
    ) -> SettingValue:
        return self._settings.get(channel_id, {}).get(key, default)

    def set_setting(self, channel_id: ChannelId, key: str, value: SettingValue) -> None:
        self._settings.setdefault(channel_id, {})[key] = value

    @property
    def bindings(self) -> dict[ChannelId, WindowId]:
        return dict(self._bindings)

    @property
    def settings(self) -> dict[ChannelId, dict[str, SettingValue]]:
        return {channel: dict(values) for channel, values in self._settings.items()}
