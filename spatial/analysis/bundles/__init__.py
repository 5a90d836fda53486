"""Eligibility, adjacency, the bundles (成片改造) and their priority."""
