"""Benchmarks: synthetic logs at 1M/10M/100M events, the kit against pandas and the floor."""
