#!/usr/bin/env bash
# Regenerates webcast_pb2.py and webcast_pb2.pyi from webcast.proto.
# Uses the protoc bundled with grpcio-tools and the mypy-protobuf plugin (both dev dependencies);
# run `make install` first. The generated files are committed; the runtime needs only `protobuf`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_BIN="${VENV_BIN:-.venv/bin}"
"$VENV_BIN/python" -m grpc_tools.protoc \
  --proto_path=src \
  --python_out=src \
  --plugin=protoc-gen-mypy="$VENV_BIN/protoc-gen-mypy" \
  --mypy_out=src \
  src/allin/live/protocol/webcast.proto
echo "generated src/allin/live/protocol/webcast_pb2.py{,i}"
