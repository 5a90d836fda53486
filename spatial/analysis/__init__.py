"""The analysis stages: coverage, capacity, bundles, siting and the run's typed result."""
