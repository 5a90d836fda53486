"""Candidate land: the parcel programmes, the greedy and exact plans, the site tables."""
