#!/usr/bin/env bash
# The Debian packages the test suite needs (`make run` needs none of them):
#   chromium       the dashboard's browser tests and the browser signer
#   ffmpeg         ffprobe checks the videos TikTok uploads are made of
#   postgresql     the database tests also run on PostgreSQL (scripts/services.sh)
#   redis-server   the shared rate limiter and signature cache tests
#   nodejs, npm    the Node peer judge (tiktok-live-connector needs Node >= 20)
# Installs the missing ones when it may (root with apt-get); otherwise names the command to run
# and fails.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
have chromium || have chromium-browser || missing+=(chromium)
have ffprobe || missing+=(ffmpeg)
ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
have redis-server || missing+=(redis-server)
have node || missing+=(nodejs)
have npm || missing+=(npm)
node_ok() {
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'
}
if [ ${#missing[@]} -eq 0 ]; then
  node_ok || { echo "make test needs Node >= 20 for the peer judges (found $(node --version))" >&2; exit 1; }
  exit 0
fi

if [ "$(id -u)" = 0 ] && have apt-get; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  node_ok || { echo "make test needs Node >= 20 for the peer judges (found $(node --version))" >&2; exit 1; }
  exit 0
fi
echo "make test needs ${missing[*]}: run sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
exit 1
