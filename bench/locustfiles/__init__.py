"""Locust scenarios of the benchmark (run by bench.load.locust_run, not by pytest)."""
