"""Speed comparisons against peers; run each with `python -m benchmarks.<name>`."""
