"""Benchmarks for pactstub: HTTP throughput against the Rust stub, lookup scaling, profiles.

Run the scripts as modules from the repository root (``python -m bench.stub_throughput``),
so they share :mod:`bench.harness` without installing anything. See ``bench/README.md``.
"""
