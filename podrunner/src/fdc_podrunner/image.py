"""An image's file system as its Dockerfile builds it, without a container engine: cached.

The builder stage runs as written: its COPY steps take the files the ignore file lets into the
context, its `uv ...` RUN steps run in a bubblewrap sandbox where the build folder is `/app` (so
the virtualenv's scripts name `/app/.venv/bin/python`, as in the image). Its other RUN steps only
install uv itself, which comes from this machine instead. The base image's Python is this
machine's interpreter (same minor version), visible at its own path in every sandbox.

The result is cached under `<repo>/.podrunner-cache/`, keyed on the filtered context's content,
the Dockerfile and the interpreter, so a second run with no source change builds nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fdc_podrunner import context
from fdc_podrunner.dockerfile import (
    DockerfileError,
    ImageConfig,
    build_steps,
    copies_from,
    image_config,
    stages,
)
from fdc_podrunner.sandbox import Mount, Sandbox, bwrap_argv, describe_system, system_mounts

# The base images' own environment (what `docker inspect` shows for them): the final stage's
# ENV builds on it (PATH="/app/.venv/bin:$PATH"). Keyed by repository (no tag, no digest): every
# tag of the official python images sets these two the same way.
BASE_IMAGE_ENV = {
    "python": {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    },
}
UV_MOUNT = "/opt/podrunner-uv"
# How this machine reaches the package index (a docker build uses the host's network the same way).
NETWORK_ENV = frozenset(
    {"SSL_CERT_FILE", "SSL_CERT_DIR", "UV_NATIVE_TLS", "UV_INDEX_URL", "UV_DEFAULT_INDEX"}
    | {"UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_INSECURE_HOST", "UV_OFFLINE"}
    | {f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")}
    | {f"{name}_proxy" for name in ("http", "https", "all", "no")}
)
_KEEP_PER_IMAGE = 3
_COMPLETE = "complete"


class ImageBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Image:
    name: str
    config: ImageConfig
    # The image's own paths, read-only: each final-stage `COPY --from=builder` bound in place.
    mounts: tuple[Mount, ...]
    python_prefix: str


@dataclass(frozen=True)
class Toolchain:
    uv: str
    python_prefix: str
    uv_cache: str

    @classmethod
    def of_this_machine(cls) -> Toolchain:
        # `uv run` tells its children where it is; a pyenv shim on PATH is a script, not uv.
        uv = os.environ.get("UV") or shutil.which("uv")
        if not uv:
            raise ImageBuildError("uv is not on PATH (run through `uv run`, or install uv)")
        cache = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
        return cls(uv=str(Path(uv).resolve()), python_prefix=sys.base_prefix, uv_cache=cache)


def base_env(base: str) -> dict[str, str]:
    name = base.partition("@")[0].partition(":")[0]
    if name not in BASE_IMAGE_ENV:
        raise DockerfileError(f"base image {base!r}: its environment is unknown (BASE_IMAGE_ENV)")
    return dict(BASE_IMAGE_ENV[name])


def build_image(
    name: str, dockerfile: Path, repo: Path, cache: Path, toolchain: Toolchain
) -> Image:
    """The image `dockerfile` describes, from the cache when its inputs are unchanged."""
    text = dockerfile.read_text(encoding="utf-8")
    all_stages = stages(text)
    *builders, final = all_stages
    config = image_config(text, base_env(final.base))
    context_filter = context.ContextFilter.from_file(context.ignore_file_of(dockerfile))
    files = context.context_files(repo, context_filter)
    key = context.digest(repo, files, text, toolchain.python_prefix, Path(toolchain.uv).name)
    built = cache / f"{name}-{key[:24]}"
    if not (built / _COMPLETE).is_file():
        _build(built, builders, repo, files, toolchain, dockerfile)
        _prune(cache, name, keep=built)
    by_name = {stage.name: index for index, stage in enumerate(all_stages) if stage.name}
    mounts = []
    for copy in copies_from(final):
        index = by_name.get(copy.stage)
        if index is None:
            raise DockerfileError(f"{dockerfile}: COPY --from={copy.stage}: no such stage")
        source = built / f"stage{index}" / copy.source.lstrip("/")
        mounts.append(Mount("ro", copy.destination, str(source)))
    return Image(name, config, tuple(mounts), toolchain.python_prefix)


def _build(
    built: Path, builders: list, repo: Path, files: list[str], tools: Toolchain, dockerfile: Path
) -> None:
    cache = built.parent
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{built.name}-", dir=cache))
    try:
        for index, stage in enumerate(builders):
            root = work / f"stage{index}"
            root.mkdir()
            for step in build_steps(stage):
                if step.kind == "copy":
                    _copy(repo, files, step.sources, root / step.destination.lstrip("/"))
                elif step.command.startswith("uv "):
                    env = {**base_env(stage.base), **step.env}
                    _run(root, step.command, step.workdir, env, tools, dockerfile)
        (work / _COMPLETE).write_text("", encoding="utf-8")
        try:
            work.rename(built)
        except OSError:
            if not (built / _COMPLETE).is_file():  # not another run's identical build
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _copy(repo: Path, files: list[str], sources: tuple[str, ...], destination: Path) -> None:
    into_folder = len(sources) > 1 or str(destination).endswith("/")
    for source in sources:
        source = source.rstrip("/").removeprefix("./")
        if source in files:
            target = destination / Path(source).name if into_folder else destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / source, target)
            continue
        below = [name for name in files if name.startswith(source + "/")]
        if not below:
            raise ImageBuildError(f"COPY {source}: nothing of it is in the build context")
        for name in below:
            target = destination / name[len(source) + 1 :]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, target)


def _run(
    root: Path, command: str, workdir: str, env: dict[str, str], tools: Toolchain, dockerfile: Path
) -> None:
    mounts = system_mounts(describe_system())
    # A build reaches the package index as this machine does (docker build's default network).
    mounts += [Mount("ro", f"/etc/{name}", f"/etc/{name}") for name in ("hosts", "resolv.conf")]
    mounts += [
        Mount("ro", tools.python_prefix, tools.python_prefix),
        Mount("ro", f"{UV_MOUNT}/uv", tools.uv),
        Mount("rw", tools.uv_cache, tools.uv_cache),
        Mount("tmpfs", "/tmp"),  # noqa: S108 - the build sandbox's own /tmp
    ]
    mounts += [Mount("rw", f"/{top.name}", str(top)) for top in sorted(root.iterdir())]
    Path(tools.uv_cache).mkdir(parents=True, exist_ok=True)
    build_env = {
        **{key: value for key, value in os.environ.items() if key in NETWORK_ENV},
        **env,
        "HOME": "/root",
        "UV_CACHE_DIR": tools.uv_cache,
        "UV_PYTHON": f"{tools.python_prefix}/bin/python3",
    }
    build_env["PATH"] = f"{UV_MOUNT}:{build_env['PATH']}"
    sandbox = Sandbox(
        argv=["/bin/sh", "-c", command],
        env=build_env,
        workdir=workdir,
        mounts=mounts,
        read_only_root=False,
    )
    result = subprocess.run(
        bwrap_argv(sandbox, bwrap=_bwrap()), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ImageBuildError(
            f"{dockerfile}: RUN {command} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def _bwrap() -> str:
    return find_tool("bwrap")


def find_tool(name: str) -> str:
    """`name` on PATH, else in the repository's .tools/bin (where `make setup` installs it)."""
    found = shutil.which(name)
    if found:
        return found
    local = Path(__file__).resolve().parents[3] / ".tools" / "bin" / name
    if local.exists():
        return str(local)
    raise FileNotFoundError(f"{name} is not installed: run `make setup` (scripts/tools.txt)")


def _prune(cache: Path, name: str, keep: Path) -> None:
    """Keep the newest few builds of this image: each source edit makes a new one."""
    builds = sorted(
        (p for p in cache.glob(f"{name}-*") if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[_KEEP_PER_IMAGE - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
