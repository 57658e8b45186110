#!/usr/bin/env bash
# Renders a conform report.html in headless Chromium (Debian package `chromium-headless-shell`), the way a reader's
# browser would: `--dump-dom` prints the DOM after parsing and layout, `--screenshot PNG` writes a picture.
#
#   scripts/render-report.sh [--dump-dom] [--screenshot OUT.png] [--window-size W,H] REPORT.html
#
# The browser is `$CHROMIUM`, else the first of chromium-headless-shell, chromium, google-chrome on PATH.
# Exit codes: 0 rendered; 2 usage error; 3 no browser (install: apt-get install chromium-headless-shell); other:
# the browser failed. Its own log lines (dbus, GPU warnings) go to stderr; stdout carries only the DOM.
set -euo pipefail

dump=0
screenshot=""
size="1400,2000"
report=""
while [ $# -gt 0 ]; do
    case "$1" in
        --dump-dom) dump=1 ;;
        --screenshot) screenshot="${2:?--screenshot needs a file}"; shift ;;
        --screenshot=*) screenshot="${1#*=}" ;;
        --window-size) size="${2:?--window-size needs W,H}"; shift ;;
        --window-size=*) size="${1#*=}" ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "render-report.sh: unknown option $1" >&2; exit 2 ;;
        *) report="$1" ;;
    esac
    shift
done
if [ -z "$report" ] || [ ! -f "$report" ]; then
    echo "render-report.sh: name an existing report.html (got '${report}')" >&2
    exit 2
fi
if [ "$dump" = 0 ] && [ -z "$screenshot" ]; then
    echo "render-report.sh: say what to do: --dump-dom and/or --screenshot OUT.png" >&2
    exit 2
fi

browser="${CHROMIUM:-}"
if [ -z "$browser" ]; then
    for candidate in chromium-headless-shell chromium google-chrome; do
        if command -v "$candidate" >/dev/null 2>&1; then browser="$candidate"; break; fi
    done
fi
if [ -z "$browser" ] || ! command -v "$browser" >/dev/null 2>&1; then
    echo "render-report.sh: no headless Chromium found (hint: apt-get install chromium-headless-shell, or set CHROMIUM)" >&2
    exit 3
fi

url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
# A fresh profile each time, so no state of an earlier run leaks in; --no-sandbox because CI containers run as root.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" --window-size="$size")
if [ -n "$screenshot" ]; then
    out="$(cd "$(dirname "$screenshot")" && pwd)/$(basename "$screenshot")"
    "$browser" "${flags[@]}" --screenshot="$out" "$url" >&2
fi
if [ "$dump" = 1 ]; then
    "$browser" "${flags[@]}" --dump-dom "$url"
fi
