"""Decode the same corpus the way TikTokLive 7 does (push frame -> gunzip -> fetch result ->
each message by its EVENT_MAPPINGS class). Runs in the peer's own virtualenv (AGPL, never
imported by AllIN); prints one JSON line of figures."""

from __future__ import annotations

import json
import resource
import struct
import sys
import time
from pathlib import Path

from TikTokLive.client.ws.ws_utils import extract_webcast_response_message
from TikTokLive.events.proto_events import EVENT_MAPPINGS
from TikTokLive.proto import WebcastPushFrame


def read_corpus(path: Path) -> list[bytes]:
    data = path.read_bytes()
    frames, offset = [], 0
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        frames.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return frames


def main() -> None:
    frames = read_corpus(Path(sys.argv[1]))
    rounds = int(sys.argv[2])
    events = typed = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for raw in frames:
            frame = WebcastPushFrame().parse(raw)
            if frame.payload_type != "msg":
                continue
            response = extract_webcast_response_message(frame)
            for message in response.messages:
                events += 1
                event_type = EVENT_MAPPINGS.get(message.method)
                if event_type is not None:
                    event_type().parse(message.payload)
                    typed += 1
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "frames": len(frames) * rounds,
                "events": events,
                "typed": typed,
                "seconds": seconds,
                "peak_rss_kb": peak_kb,
            }
        )
    )


if __name__ == "__main__":
    main()
