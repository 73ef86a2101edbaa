"""`mutual insights`: Insights: refresh and inspect."""

from __future__ import annotations

import click


@click.group()
def insights() -> None:
    """Insights: refresh and inspect."""
