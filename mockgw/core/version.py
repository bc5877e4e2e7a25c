"""The package version: its one home (pyproject.toml reads it from here)."""

VERSION = "0.1.0"
