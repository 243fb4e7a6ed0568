"""Placeholder: filled in by the owner of this module family."""
__all__ = []
