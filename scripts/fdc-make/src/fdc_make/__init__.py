"""The logic behind the Makefile's kind, release and template targets (standard library only).

Python rather than bash: macOS ships bash 3.2, which cannot run what the kind path needs, and
Python is the project's own language, tested in process (tests/kind). `python3 -m fdc_make`.
"""
