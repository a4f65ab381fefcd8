"""Benchmarks of govpatrol on this machine, against the sandbox portal on localhost.

Each module is one benchmark, run as ``python -m bench.<name>`` (or ``scripts/bench
<name>``); each prints a table and one ``BENCH {...}`` JSON line, and writes the same
JSON under ``bench/results/``.
"""
