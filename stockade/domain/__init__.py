"""Pure domain: spec models, lifecycle, quotas, rate math and error types. No I/O, no other layer."""
