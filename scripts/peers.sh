#!/usr/bin/env bash
# Installs the two peer client libraries (AGPL, test- and benchmark-only) apart from AllIN:
# TikTokLive into .peers/python (pinned with hashes), tiktok-live-connector into tests/peers/node.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=.venv/bin/uv
[ -x "$UV" ] || { echo "run make install first" >&2; exit 1; }
if [ ! -x .peers/python/bin/python ]; then
  "$UV" venv -q --python "$(.venv/bin/python -c 'import sys; print(sys.executable)')" .peers/python
fi
"$UV" pip install -q --python .peers/python/bin/python --require-hashes -r tests/peers/python/requirements.txt
if [ -f tests/peers/node/package-lock.json ]; then
  command -v npm >/dev/null 2>&1 \
    || { echo "peers: the Node judge needs Node >= 20 with npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
  (cd tests/peers/node && npm ci --silent --no-audit --no-fund)
fi
