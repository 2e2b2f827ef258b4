#!/usr/bin/env python
"""Django's manage.py for a checkout: `uv run python services/airestaurant/manage.py <command>`."""

from airestaurant.__main__ import main

if __name__ == "__main__":
    main()
