"""Accuracy and speed benchmark of the course's numerics against their peers.

Run it with ``python benchmarks/run.py`` (or ``make bench``); the results are
written to ``benchmarks/results/accuracy.json`` and ``speed.json``, which the
floating-point appendix of the book reads.
"""
