"""One adapter per wire format, each on its vendor's official SDK with the SDK's retries off
(the fallback chain, not SDK backoff, spends the latency budget)."""
