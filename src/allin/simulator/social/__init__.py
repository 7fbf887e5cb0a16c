"""Local simulators of X, LinkedIn and Meta (Facebook Pages, Instagram), held to their public
API contracts, for tests and demo mode."""
