"""Decode a corpus with AllIN's decoder; print one JSON line of figures. Run as a script."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from allin.live.protocol import decode_frame_events
from benchmarks.live.corpus import read_corpus


def main() -> None:
    frames = read_corpus(Path(sys.argv[1]))
    rounds = int(sys.argv[2])
    events = types = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for frame in frames:
            result = decode_frame_events(frame)
            events += len(result.events)
            types += sum(1 for e in result.events if e.type not in ("unknown", "decode_error"))
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "frames": len(frames) * rounds,
                "events": events,
                "typed": types,
                "seconds": seconds,
                "peak_rss_kb": peak_kb,
            }
        )
    )


if __name__ == "__main__":
    main()
