"""Performance measurements, kept apart from the tests. Run with `make bench`."""
