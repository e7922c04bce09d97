"""``python -m unified_icc``: the unified-icc command."""

from __future__ import annotations

from unified_icc.cli import main

raise SystemExit(main())
