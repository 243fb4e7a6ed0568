"""Placeholder: filled in by the owner of this functional family."""
__all__ = []
