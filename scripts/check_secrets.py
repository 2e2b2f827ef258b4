"""`make lint`'s secrets check: detect-secrets over every file git knows (tracked, or new and not
ignored), compared with the committed `.secrets.baseline`.

It fails when a file holds a finding the baseline does not have (a new secret, or a new
placeholder that must first be audited into the baseline), and when an entry of the baseline is
not audited as a false positive with its reason (`"is_secret": false` and `"reason"`). Findings
are matched by file, type and hashed value, not by line, so editing around them is fine. It
never writes: the baseline changes only on purpose, with

    git ls-files -z --cached --others --exclude-standard \\
      | xargs -0 uv run detect-secrets scan --baseline .secrets.baseline

then `"is_secret": false` and a `"reason"` on each new entry once it has been looked at (or,
if it is a real secret, the secret removed from the file and rotated).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection

BASELINE = Path(".secrets.baseline")


def listed_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and Path(name).is_file()]


def unaudited(entries: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        f"{entry['filename']}:{entry.get('line_number', '?')}: {entry['type']} is in "
        f"{BASELINE} without an audit ('is_secret': false and a 'reason')"
        for findings in entries.values()
        for entry in findings
        if entry.get("is_secret") is not False or not str(entry.get("reason", "")).strip()
    ]


def main() -> int:
    recorded = json.loads(BASELINE.read_text())
    known = baseline.load(recorded, str(BASELINE))  # also applies its plugins and filters
    found = SecretsCollection()
    found.scan_files(*listed_files())
    problems = unaudited(recorded["results"])
    problems += [
        f"{filename}:{secret.line_number}: {secret.type} (new: remove it, or audit it into "
        f"{BASELINE} as scripts/check_secrets.py explains)"
        for filename, secret in found - known
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"detect-secrets: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    audited = sum(len(findings) for findings in recorded["results"].values())
    print(f"detect-secrets: no new findings ({audited} audited in {BASELINE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
