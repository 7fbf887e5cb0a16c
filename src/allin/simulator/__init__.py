"""Faithful simulators of the outside services AllIN talks to (TikTok LIVE first), for tests,
demos and users' own bots."""
