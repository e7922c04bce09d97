"""The bot's exception tree.

Owns every exception cclark raises on purpose; gateway errors stay UnifiedICCError.

    CclarkError
    └── CclarkConfigError(ValueError)   the feishu/health sections cannot be used
"""

from __future__ import annotations

__all__ = ["CclarkConfigError", "CclarkError"]


class CclarkError(Exception):
    """Anything the bot raises on purpose; the message tells the user what to do."""


class CclarkConfigError(CclarkError, ValueError):
    """The bot's configuration cannot be used."""
