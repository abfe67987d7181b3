"""Shared test support: moto server, Cognito users and tokens, test keys, events, scripted model.

Fixtures that use these live in `tests/conftest.py`; the pieces are plain classes and functions
so other suites (the local gateway, the browser tests) can reuse them.
"""
