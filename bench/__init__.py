"""Benchmarks of Mutual on PostgreSQL: seed, HTTP load and EXPLAIN (`python -m bench`).

See bench/README.md for how to run them and how to read the output.
"""
