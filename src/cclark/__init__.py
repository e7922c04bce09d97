"""cclark: the Feishu/Lark bot that drives unified-icc agent windows from a chat."""

from __future__ import annotations

__all__: list[str] = []
