"""Speed benchmarks, one module per area, each runnable as `python -m bench.benchmarks.<area>`."""
