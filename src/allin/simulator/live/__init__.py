"""TikTok LIVE as a simulator: the web side (live page with SIGI_STATE, api-live, room
check/info, gift list), `webcast/im/fetch`, the WebSocket push server, an EulerStream-compatible
sign side, seeded scenarios and faults on demand. Held to TikTok's contract (what
TikTok's web and webcast hosts answer), never bent to our own client.

    from allin.simulator.live.simulator import Simulator   # demo_streamer is always live
    from allin.simulator.live.server import run_simulator
    async with run_simulator(Simulator()) as running:        # real HTTP/WS on loopback
        running.urls.web, running.urls.webcast, running.urls.push, running.urls.sign
    allin.simulator.live.app.create_simulator_app(sim)       # the ASGI app itself
    allin.simulator.live.scenario.timeline(seed, Scenario())  # the pure scenario engine

(No imports here: `allin --help` must not load uvicorn and the whole simulator.)
"""
