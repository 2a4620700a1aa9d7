"""glmkit's benchmark suite: ``python -m benchmarks.run`` (see run.py and RESULTS.md)."""
