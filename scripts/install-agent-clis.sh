#!/usr/bin/env bash
# Install the pinned agent CLIs (Claude Code, Codex CLI, Gemini CLI) for the e2e tests into the
# project-local, git-ignored prefix .e2e/npm, with a project-local npm cache. Idempotent: a CLI
# whose installed version already matches its pin is skipped. Fails loudly when npm is missing
# or an install does not leave the pinned version behind. Works as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.e2e/npm"
CACHE="$ROOT/.e2e/npm-cache"

# binary|package|version; the binary is what lands in $PREFIX/bin.
PINS=(
  "claude|@anthropic-ai/claude-code|2.1.197"
  "codex|@openai/codex|0.169.0"
  "gemini|@google/gemini-cli|0.61.0"
)

die() { echo "install-agent-clis: error: $*" >&2; exit 1; }

command -v npm >/dev/null 2>&1 ||
  die "npm is not on PATH: install Node.js 20+ with npm (e.g. apt-get install nodejs npm)"

# The version recorded in the installed package.json, or nothing when it is not installed.
installed_version() {
  local package="$1" manifest
  manifest="$PREFIX/lib/node_modules/$package/package.json"
  [ -f "$manifest" ] || return 0
  node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest" \
    2>/dev/null || true
}

# The version the binary reports, e.g. "2.1.197 (Claude Code)" or "codex-cli 0.169.0".
reported_version() {
  local bin="$PREFIX/bin/$1"
  [ -x "$bin" ] || return 0
  timeout 30 "$bin" --version 2>/dev/null | head -n 1 || true
}

is_current() {
  local name="$1" package="$2" version="$3"
  [ -x "$PREFIX/bin/$name" ] || return 1
  [ "$(installed_version "$package")" = "$version" ] || return 1
  # The version banner is the final word: a half-installed native binary fails here.
  [[ " $(reported_version "$name") " == *[!0-9.]"$version"[!0-9.]* ]]
}

mkdir -p "$PREFIX" "$CACHE"
export npm_config_cache="$CACHE"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

for pin in "${PINS[@]}"; do
  IFS='|' read -r name package version <<<"$pin"
  if is_current "$name" "$package" "$version"; then
    echo "$name: $package@$version already installed ($PREFIX/bin/$name)"
    continue
  fi
  started=$SECONDS
  log="$ROOT/.e2e/npm-install-$name.log"
  # npm 7+ runs as root without --unsafe-perm. The CLIs' own postinstall scripts are not
  # needed: each native binary arrives as an optional dependency.
  if ! npm install --global --prefix "$PREFIX" --no-audit --no-fund "$package@$version" \
      >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "npm install $package@$version failed (full log: $log)"
  fi
  is_current "$name" "$package" "$version" ||
    die "$package@$version installed, but '$PREFIX/bin/$name --version' says" \
        "'$(reported_version "$name")' (log: $log)"
  echo "$name: installed $package@$version in $((SECONDS - started))s ($PREFIX/bin/$name)"
done
