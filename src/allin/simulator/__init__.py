"""Simulators of the third-party services AllIN talks to, for tests and local development.

`allin.simulator.open_api`: TikTok's Open API (Login Kit, Display, Content Posting, upload host,
webhooks), following the contract TikTok's developer documentation gives.
"""
