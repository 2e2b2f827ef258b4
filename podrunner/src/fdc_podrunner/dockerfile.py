"""Read a Dockerfile's stages: what the builder runs and what the final image is configured with.

Pure: text in, data out. Only the instructions our Dockerfiles use are understood (FROM, ARG, ENV,
WORKDIR, COPY, RUN, USER, EXPOSE, VOLUME, ENTRYPOINT, CMD); any other one is refused by name, so a
new instruction cannot be silently ignored.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

KNOWN = {"FROM", "ARG", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "VOLUME", "ENTRYPOINT"}
KNOWN |= {"CMD", "LABEL"}
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


class DockerfileError(ValueError):
    """The Dockerfile uses something this reader does not understand; the message says what."""


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


@dataclass(frozen=True)
class ImageConfig:
    """The final stage's runtime configuration (what `docker inspect` shows under Config)."""

    env: dict[str, str]
    user: str | None
    workdir: str
    entrypoint: list[str]
    cmd: list[str]


def instructions(text: str) -> list[Instruction]:
    """The instructions, continuation lines joined, comments and blank lines dropped."""
    parsed = []
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, arguments = logical.partition(" ")
        parsed.append(Instruction(keyword.upper(), arguments.strip()))
        logical = ""
    if logical:
        raise DockerfileError(f"the last instruction is continued past the end: {logical!r}")
    return parsed


def stages(text: str) -> list[Stage]:
    """The build stages in order; instructions before the first FROM (global ARGs) are dropped."""
    found: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword not in KNOWN:
            raise DockerfileError(f"unsupported Dockerfile instruction {instruction.keyword}")
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(base=words[0], name=name))
        elif found:
            found[-1].instructions.append(instruction)
    if not found:
        raise DockerfileError("the Dockerfile has no FROM")
    return found


def expand(value: str, env: dict[str, str]) -> str:
    """Docker's `$VAR` / `${VAR}` substitution in ENV, WORKDIR and similar (unknown -> empty)."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), value)


def env_pairs(arguments: str, env: dict[str, str]) -> dict[str, str]:
    """`ENV K=V K2="V 2"` (or the legacy `ENV K V`), each value expanded against `env`."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: expand(arguments.partition(" ")[2].strip(), env)}
    pairs: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise DockerfileError(f"ENV {arguments!r}: {word!r} is not KEY=VALUE")
        pairs[key] = expand(value, {**env, **pairs})
    return pairs


def exec_form(arguments: str) -> list[str]:
    """ENTRYPOINT/CMD: the JSON exec form as is, the shell form through /bin/sh -c."""
    if arguments.startswith("["):
        try:
            value = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise DockerfileError(f"not a JSON array: {arguments!r} ({exc})") from exc
        return [str(word) for word in value]
    return ["/bin/sh", "-c", arguments]


def image_config(text: str, base_env: dict[str, str]) -> ImageConfig:
    """The final stage's ENV (over the base image's `base_env`), USER, WORKDIR, ENTRYPOINT, CMD."""
    final = stages(text)[-1]
    env = dict(base_env)
    user: str | None = None
    workdir = "/"
    entrypoint: list[str] = []
    cmd: list[str] = []
    for instruction in final.instructions:
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "ENV":
            env.update(env_pairs(arguments, env))
        elif keyword == "USER":
            user = expand(arguments, env)
        elif keyword == "WORKDIR":
            workdir = _join(workdir, expand(arguments, env))
        elif keyword == "ENTRYPOINT":
            entrypoint, cmd = exec_form(arguments), []  # a new ENTRYPOINT resets CMD
        elif keyword == "CMD":
            cmd = exec_form(arguments)
    return ImageConfig(env=env, user=user, workdir=workdir, entrypoint=entrypoint, cmd=cmd)


def _join(current: str, path: str) -> str:
    return path if path.startswith("/") else f"{current.rstrip('/')}/{path}"


def container_argv(config: ImageConfig, command: list[str], args: list[str]) -> list[str]:
    """Kubernetes' rule: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD."""
    if command:
        return [*command, *args]
    return [*config.entrypoint, *(args or config.cmd)]


@dataclass(frozen=True)
class BuildStep:
    """One step of a builder stage that affects the file system: a COPY from the context, or a RUN,
    with the working directory and environment in effect at that point."""

    kind: str  # "copy" | "run"
    workdir: str
    env: dict[str, str]
    sources: tuple[str, ...] = ()
    destination: str = ""
    command: str = ""


@dataclass(frozen=True)
class CopyFrom:
    """A final-stage `COPY --from=STAGE SOURCE DESTINATION`."""

    stage: str
    source: str
    destination: str


def build_steps(stage: Stage) -> list[BuildStep]:
    """A builder stage's COPY-from-context and RUN steps, in order."""
    env: dict[str, str] = {}
    workdir = "/"
    steps: list[BuildStep] = []
    for instruction in stage.instructions:
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "ENV":
            env.update(env_pairs(arguments, env))
        elif keyword == "WORKDIR":
            workdir = _join(workdir, expand(arguments, env))
        elif keyword == "COPY":
            if "--from=" in arguments:
                raise DockerfileError(f"COPY {arguments!r} in a builder stage is not supported")
            *sources, destination = arguments.split()
            steps.append(
                BuildStep("copy", workdir, dict(env), tuple(sources), _join(workdir, destination))
            )
        elif keyword == "RUN":
            steps.append(BuildStep("run", workdir, dict(env), command=arguments))
    return steps


def copies_from(stage: Stage) -> list[CopyFrom]:
    """The final stage's `COPY --from=...` instructions (what it takes from the builder)."""
    found = []
    for instruction in stage.instructions:
        if instruction.keyword != "COPY":
            continue
        words = instruction.arguments.split()
        flags = [word for word in words if word.startswith("--")]
        paths = [word for word in words if not word.startswith("--")]
        origin = [flag.partition("=")[2] for flag in flags if flag.startswith("--from=")]
        if not origin or len(paths) != 2:
            raise DockerfileError(
                f"final stage: COPY {instruction.arguments!r} must be `--from=STAGE SRC DEST`"
            )
        found.append(CopyFrom(origin[0], paths[0], paths[1]))
    return found
