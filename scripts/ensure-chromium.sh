#!/usr/bin/env bash
# The page tests drive Debian's Chromium with Playwright (never a downloaded
# browser). Installs it when missing and this user may; otherwise those tests skip.
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null && exit 0
fi
echo "chromium is not installed: the page tests will be skipped" >&2
exit 0
