"""ProviderRegistry: the providers this gateway knows, built from config (no global registry).

Owns name lookup and the clear error for an unknown provider.
"""

from __future__ import annotations

from unified_icc.config import ProvidersSettings
from unified_icc.errors import UnknownProviderError
from unified_icc.providers.base import Provider
from unified_icc.providers.claude import ClaudeProvider
from unified_icc.providers.codex import CodexProvider
from unified_icc.providers.gemini import GeminiProvider
from unified_icc.providers.shell import ShellProvider

__all__ = ["ProviderRegistry"]

_CLASSES: tuple[type[Provider], ...] = (
    ClaudeProvider,
    CodexProvider,
    GeminiProvider,
    ShellProvider,
)


class ProviderRegistry:
    def __init__(self, settings: ProvidersSettings) -> None:
        self._providers = {cls.name: cls(settings.for_provider(cls.name)) for cls in _CLASSES}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def get(self, name: str) -> Provider:
        """The provider called ``name`` (case-insensitive).

        Raises:
            UnknownProviderError: naming the providers that exist.
        """
        provider = self._providers.get(name.strip().lower())
        if provider is None:
            raise UnknownProviderError(
                f"unknown provider {name!r}: use one of {', '.join(self._providers)}",
                provider=name,
            )
        return provider

    def all(self) -> tuple[Provider, ...]:
        return tuple(self._providers.values())

    def identify(self, command: str, start_command: str) -> Provider | None:
        """The agent CLI a foreign pane runs, judged by its process and start command."""
        words = {command, *(part.rsplit("/", 1)[-1] for part in start_command.split())}
        for provider in self._providers.values():
            if provider.process_names & words:
                return provider
        return None
