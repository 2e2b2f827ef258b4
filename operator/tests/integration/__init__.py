"""The operator's tests that run real tools on loopback: promtool, Prometheus, the apps.

A package, so that pytest's importlib mode names these modules `integration.*`: derived from
their path they would be `operator.*`, which replaces the standard library's operator module.
"""
