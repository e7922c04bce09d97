#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests (tests/browser/),
# which drive it headless with Playwright, plus emoji and symbol fonts so that screenshots show
# cclark's ⏳ ✅ 🔐 ⎿ rather than empty boxes. Never downloads a browser build: what is missing
# comes from Debian's packages through apt-get when we are root. Without root, a missing
# Chromium stops with a message saying what to install (missing fonts only warn). Idempotent.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
FONTS=(fonts-noto-color-emoji fonts-symbola)

die() { echo "install-browser: error: $*" >&2; exit 1; }
warn() { echo "install-browser: warning: $*" >&2; }

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
if command -v dpkg-query >/dev/null 2>&1; then
  for font in "${FONTS[@]}"; do
    installed "$font" || missing+=("$font")
  done
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  [ -x "$CHROMIUM" ] ||
    die "$CHROMIUM is missing: install Debian's chromium package (sudo apt-get install chromium)"
  warn "not installing ${missing[*]} (needs root and apt-get); screenshots may lack emoji"
  exit 0
fi

echo "install-browser: installing ${missing[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ -x "$CHROMIUM" ] || die "apt-get installed chromium but $CHROMIUM is still missing"
