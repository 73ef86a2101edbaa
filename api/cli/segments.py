"""`mutual segments`: Segments: refresh, bootstrap the built-in ones."""

from __future__ import annotations

import click


@click.group()
def segments() -> None:
    """Segments: refresh, bootstrap the built-in ones."""
