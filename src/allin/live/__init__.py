"""TikTok LIVE capture: the webcast protocol core lives in `allin.live.protocol`."""
