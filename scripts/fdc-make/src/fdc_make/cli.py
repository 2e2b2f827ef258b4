"""`python3 -m fdc_make COMMAND`: what the Makefile's kind, release and template targets run.

  preflight TARGET          Docker, then the tools TARGET runs: stop at once, saying what to do
  images                    build the four images `make up` loads (fdc.local/fastdining/<chart>)
  up                        cluster (if absent), images, kind load, install, rollouts
  install                   the install commands alone, against the running cluster
  forward NAME              port-forward grafana, prometheus or alertmanager
  load [ARGS]               `make load` into the cluster's apps, through port-forwards
  e2e                       up, the Discord stand-in's image, then pytest tests/e2e
  down                      delete the cluster
  release-check VERSION [OWNER]   list what tagging vVERSION publishes
  release VERSION OWNER     publish it (the release workflow)
  template                  render the umbrella for review (stdout)

HELM=helm3 runs every helm command with helm v3; DISCORD_WEBHOOK_URL, when set, is where the relay
posts; BUILDX_CACHE=gha caches image layers in GitHub's cache (the workflows).
"""

from __future__ import annotations

import inspect
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fdc_make import forwards, images, kind, prerequisites, stack, versions


def _release_check(version: str, owner: str = "fastdining") -> int:
    try:
        print("\n".join(versions.release_plan(kind.ROOT, version, owner.lower())))
    except ValueError as error:
        print(f"release-check: {error}", file=sys.stderr)
        return 1
    return 0


def _release(version: str, owner: str) -> int:
    from fdc_make.release import release

    release(version, owner)
    return 0


def _template() -> int:
    from fdc_make.template import template

    try:
        helm = prerequisites.resolve(["helm"], kind.TOOLS_BIN, kind.install_absent).paths["helm"]
    except prerequisites.Missing as missing:
        print(f"make template needs:\n{missing}", file=sys.stderr)
        return 2
    return template(str(helm))


def _unit(action: Callable[[], object]) -> Callable[[], int]:
    def run() -> int:
        action()
        return 0

    return run


COMMANDS: dict[str, Callable[..., int]] = {
    "preflight": lambda target: _unit(lambda: kind.require(target, *kind.needs(target)))(),
    "images": _unit(lambda: (kind.require("images", *kind.needs("images")), images.images())),
    "up": _unit(stack.up),
    "install": _unit(stack.install_only),
    "forward": lambda name="": _unit(lambda: forwards.forward(name))(),
    "load": lambda *args: _unit(lambda: forwards.load(args))(),
    "e2e": _unit(stack.e2e),
    "down": _unit(kind.down),
    "release-check": _release_check,
    "release": _release,
    "template": _template,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command = COMMANDS[argv[0]]
    try:
        inspect.signature(command).bind(*argv[1:])
    except TypeError as error:
        print(f"{argv[0]}: {error}\n{__doc__}", file=sys.stderr)
        return 2
    os.chdir(Path(kind.ROOT))
    try:
        return command(*argv[1:])
    except kind.Stop as stop:
        print(stop, file=sys.stderr)
        return stop.code
    except subprocess.CalledProcessError as failed:
        # The command's own output said why; no traceback on top of it.
        print(
            f"{argv[0]}: `{shlex.join(map(str, failed.cmd))}` exited {failed.returncode}",
            file=sys.stderr,
        )
        return failed.returncode or 1
    except subprocess.TimeoutExpired as late:
        print(
            f"{argv[0]}: `{shlex.join(map(str, late.cmd))}` ran out of its {late.timeout:.0f} s",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
