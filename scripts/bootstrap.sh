# Sourced by run.sh and test.sh: make .venv hold this project (and, for tests, its test tools).
# Usage: bootstrap_venv [extras]   e.g. bootstrap_venv test
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

die() { echo "error: $*" >&2; exit 1; }

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11 if it is not on PATH)"
}

check_tmux() {
  command -v tmux >/dev/null 2>&1 || die "tmux 3.2 or newer is needed: install it (e.g. apt-get install tmux)"
  local version
  version="$(tmux -V | sed -E 's/^tmux (next-)?([0-9]+\.[0-9]+).*/\2/')"
  awk -v v="$version" 'BEGIN { exit !(v + 0 >= 3.2) }' ||
    die "tmux $version is too old: 3.2 or newer is needed"
}

bootstrap_venv() {
  local extras="${1:-}" spec="$ROOT" stamp want
  [ -n "$extras" ] && spec="$ROOT[$extras]"
  if [ ! -x "$VENV/bin/python" ]; then
    "$(find_python)" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  # Reinstall only when the dependencies or the requested extras change.
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)-$extras"
  stamp="$VENV/.installed-$extras"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --editable "$spec"
    echo "$want" > "$stamp"
  fi
}
