"""Throughput benchmark of the render farm: `make bench` (python -m bench).

Every comparison is measured side by side in one run, alternating its two sides round by round
so that the machine's drift hits both alike; each figure is the median of the rounds.
"""
