"""A lean HTTP/1.1 load generator for loopback: pre-built requests over keep-alive
connections, so the client's own cost stays small next to the server's.

Two modes: `closed` (N requests in flight, as fast as the server answers: throughput) and
`open` (a fixed arrival rate, each request sent at its scheduled time on a free connection:
latency at that rate; a request that finds no free connection waits, and that wait counts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


RequestFactory = Callable[[int], bytes]


async def closed_loop(
    host: str, port: int, make: RequestFactory, *, concurrency: int, seconds: float
) -> Result:
    connections = [await Connection.open(host, port) for _ in range(concurrency)]
    result, counter = Result(), iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def worker(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = await conn.send(make(next(counter)))
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    result.elapsed = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return result


async def open_loop(
    host: str, port: int, make: RequestFactory, *, rate: float, seconds: float, connections: int
) -> Result:
    """Latency is measured from each request's scheduled time (no coordinated omission)."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(host, port))
    result = Result()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05

    async def one(i: int, scheduled: float) -> None:
        conn = await idle.get()
        status = await conn.send(make(i))
        result.latencies.append(time.perf_counter() - scheduled)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        idle.put_nowait(conn)

    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return result
