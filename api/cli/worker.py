"""`mutual worker`: background work (scheduled refreshes, exports)."""

from __future__ import annotations

import click


@click.command()
def worker() -> None:
    """Run background work until interrupted."""
