"""`python -m sloalert` is the `sloalert` command."""

import sys

from sloalert.cli import main

sys.exit(main())
