"""Benchmarks that run the real Citeline server over public data sets and print the figures."""
