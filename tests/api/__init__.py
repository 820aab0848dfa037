"""Tests of stockade.api (also home of the in-memory seams the CLI tests reuse)."""
