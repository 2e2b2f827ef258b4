"""The operator's unit tests: no process, no tool, no server.

A package, so that pytest's importlib mode names these modules `unit.*`: derived from their
path they would be `operator.*`, which replaces the standard library's operator module.
"""
