#!/usr/bin/env bash
# Installs the system packages that the integration tests start: PostgreSQL (gradebook on a
# real server) and Chromium (JupyterLab in a real browser). Needs root and apt; elsewhere it
# says what is missing and the tests that need it skip with that reason.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v prlimit >/dev/null 2>&1 || need+=(util-linux)
# the ✅ of passing tests in the browser screenshots
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need+=(fonts-noto-color-emoji)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not root or no apt-get; missing ${need[*]} (tests that need them will skip)"
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null \
  || echo "system-deps: apt-get failed; tests that need ${need[*]} will skip"
exit 0
