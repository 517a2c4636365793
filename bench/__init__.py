"""Benchmarks: plain scripts that print tables with ratios against a same-run baseline."""
