# Kept to syntax any Python 3.6+ parses, so an old python3 gets this message, not a SyntaxError.
import sys

if sys.version_info < (3, 9):  # noqa: UP036 (the point: an older one gets a message)
    major, minor = sys.version_info[:2]
    sys.stderr.write(
        f"the kind path needs Python 3.9 or later, and python3 is {major}.{minor}: install a "
        "newer one (Debian/Ubuntu: apt-get install python3; macOS: xcode-select --install, or "
        "brew install python) and run make PYTHON=/path/to/python3 ...\n"
    )
    sys.exit(2)

from fdc_make.cli import main

sys.exit(main(sys.argv[1:]))
