"""Syncline: a self-hosted, Paragon-compatible managed sync service."""

__all__ = ["__version__"]

__version__ = "0.1.0"
