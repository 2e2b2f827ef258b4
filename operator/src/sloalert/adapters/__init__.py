"""Adapters that talk to the network for sloalert's pure modules.

Kept apart so that the generator, the renderer and the offline CLI commands never load an HTTP
client (a test holds the top-level modules to that); only `sloalert check` and the operator do.
"""
