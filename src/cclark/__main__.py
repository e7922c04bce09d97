"""``python -m cclark``: the cclark command."""

from __future__ import annotations

from cclark.cli import main

raise SystemExit(main())
