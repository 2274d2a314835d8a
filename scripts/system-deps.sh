#!/usr/bin/env bash
# Debian packages the platform uses beyond Python: HarfBuzz's subsetter makes WeasyPrint ~10x faster on
# fonts (without it, it falls back to fontTools). Installed when missing and when we may (root + apt).
set -u
missing=()
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset.so.0 || missing+=(libharfbuzz-subset0)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Debian's Chromium drives the browser tests of the web pages (Playwright never downloads a browser here).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# and Debian's Firefox ESR the Firefox ones, over WebDriver BiDi (services/gateway/tests/firefox).
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
else
  echo "Please install these Debian packages: ${missing[*]}" >&2
fi
exit 0
