"""Tests of stockade.cli, run against the real API app over in-memory ports."""
