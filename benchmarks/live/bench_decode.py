"""Webcast decode throughput: AllIN vs TikTokLive's own decoder, side by side on one corpus.

Each decoder runs in its own process (TikTokLive in the peer virtualenv made by
scripts/peers.sh), three times; the best run of each is reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.live.corpus import build_corpus, write_corpus

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PEER_PYTHON = ROOT / ".peers" / "python" / "bin" / "python"
FRAMES = int(os.environ.get("BENCH_FRAMES", "2000"))
RUNS = 3


def _best(python: Path | str, script: str, corpus: Path, rounds: int) -> dict[str, float]:
    results = []
    for _ in range(RUNS):
        out = subprocess.run(
            [str(python), str(HERE / script), str(corpus), str(rounds)],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return min(results, key=lambda r: r["seconds"])


def main() -> None:
    if not PEER_PYTHON.exists():
        raise SystemExit("peer virtualenv missing: run `bash scripts/peers.sh` first")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "frames.bin"
        frames = build_corpus(FRAMES)
        write_corpus(corpus, frames)
        size = corpus.stat().st_size
        ours = _best(sys.executable, "decode_ours.py", corpus, rounds=5)
        peer = _best(PEER_PYTHON, "decode_tiktoklive.py", corpus, rounds=1)
    if ours["events"] / 5 != peer["events"]:
        raise SystemExit(f"decoders disagree on event count: {ours} vs {peer}")
    rows = []
    for name, r in (("AllIN", ours), ("TikTokLive 7.0.1", peer)):
        rows.append(
            (name, r["frames"] / r["seconds"], r["events"] / r["seconds"], r["peak_rss_kb"])
        )
    print(f"corpus: {FRAMES} gzipped frames, {peer['events']} messages, {size / 1e6:.1f} MB")
    print(f"{'decoder':<18} {'frames/s':>12} {'events/s':>12} {'peak RSS MB':>12}")
    for name, fps, eps, rss in rows:
        print(f"{name:<18} {fps:>12,.0f} {eps:>12,.0f} {rss / 1024:>12.1f}")
    print(f"ratio (events/s): {rows[0][2] / rows[1][2]:.1f}x")


if __name__ == "__main__":
    main()
