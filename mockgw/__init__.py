"""mockgw: a local emulator of the Edgee AI Gateway API for testing integrations."""

__version__ = "0.1.0"
