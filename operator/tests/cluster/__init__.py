"""The operator's tests.

A package, so that pytest's importlib mode names these modules `cluster.*`: derived from their
path they would be `operator.*`, which replaces the standard library's operator module.
"""
