"""ctbench: benchmark connection-tracking table designs like ovstest does."""

__version__ = "0.1.0"
