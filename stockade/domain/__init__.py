"""Pure domain: spec models, lifecycle, quotas, rate math, errors. No I/O, no other layer."""
