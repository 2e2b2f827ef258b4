"""SLOAlert."""
