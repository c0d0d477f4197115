"""Fault injection for the render farm: `make chaos` (see __main__.py)."""
