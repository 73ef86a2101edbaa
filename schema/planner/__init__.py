"""Planned execution: root fields compiled to one SQL statement each.

See docs/architecture.md.
"""
