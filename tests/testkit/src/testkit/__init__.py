"""Test support shared by every component of the workspace."""
