"""Tests of `smcost extract` against moto's server (see harness.py)."""
