"""Shared plumbing: config, errors, envelope, logging, clock, HTTP client, health."""
