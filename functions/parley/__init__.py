"""Parley's shared Lambda core: config, auth, models, store, bots, realtime, errors.

Bundled into every function zip; third-party dependencies come from the layer.
"""
