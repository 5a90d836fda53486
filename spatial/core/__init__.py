"""Foundations: default settings, the message catalogue, errors, data problems, coordinate
systems and the forked-worker mechanism. Imports nothing else of the package."""
