"""Benchmarks (`make bench`) and the Lambda simulation they and the trace test share."""
