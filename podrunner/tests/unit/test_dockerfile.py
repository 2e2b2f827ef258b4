"""The Dockerfile reader: stages, the final image's configuration, the builder's steps."""

from __future__ import annotations

import pytest
from fdc_podrunner.dockerfile import (
    DockerfileError,
    build_steps,
    container_argv,
    copies_from,
    env_pairs,
    image_config,
    stages,
)

DOCKERFILE = """\
# a comment
ARG GLOBAL=1
FROM python:3.11-slim@sha256:abc AS builder
ARG UV_VERSION
ENV UV_COMPILE_BYTECODE=1 \\
    UV_LINK_MODE=copy
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-install-workspace
COPY libs libs
RUN uv sync --frozen --no-editable

FROM python:3.11-slim
ENV PATH="/app/.venv/bin:$PATH" \\
    GREETING="hello world"
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
USER 10001:10001
CMD ["gunicorn", "-c", "python:conf"]
"""
BASE = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def test_stages_are_named_and_in_order() -> None:
    found = stages(DOCKERFILE)
    assert [(s.base, s.name) for s in found] == [
        ("python:3.11-slim@sha256:abc", "builder"),
        ("python:3.11-slim", None),
    ]


def test_the_final_stage_config_builds_on_the_base_image_env() -> None:
    config = image_config(DOCKERFILE, BASE)
    assert config.env == {
        "PATH": "/app/.venv/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "GREETING": "hello world",
    }
    assert (config.user, config.workdir) == ("10001:10001", "/app")
    assert (config.entrypoint, config.cmd) == ([], ["gunicorn", "-c", "python:conf"])


def test_the_builder_steps_keep_order_workdir_and_env() -> None:
    steps = build_steps(stages(DOCKERFILE)[0])
    assert [(s.kind, s.command or s.destination) for s in steps] == [
        ("run", 'pip install "uv==${UV_VERSION}"'),
        ("copy", "/app/./"),
        ("run", "uv sync --frozen --no-install-workspace"),
        ("copy", "/app/libs"),
        ("run", "uv sync --frozen --no-editable"),
    ]
    assert steps[1].sources == ("pyproject.toml", "uv.lock")
    assert steps[2].env == {"UV_COMPILE_BYTECODE": "1", "UV_LINK_MODE": "copy"}
    assert steps[2].workdir == "/app"


def test_the_final_stage_takes_the_venv_from_the_builder() -> None:
    [copy] = copies_from(stages(DOCKERFILE)[-1])
    assert (copy.stage, copy.source, copy.destination) == ("builder", "/app/.venv", "/app/.venv")


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ([], [], ["tini", "--", "serve"]),
        ([], ["other"], ["tini", "--", "other"]),
        (["python", "-m", "x"], [], ["python", "-m", "x"]),
        (["python"], ["-V"], ["python", "-V"]),
    ],
)
def test_the_pod_command_and_args_replace_entrypoint_and_cmd(
    command: list[str], args: list[str], expected: list[str]
) -> None:
    text = 'FROM python:3.11-slim\nENTRYPOINT ["tini", "--"]\nCMD ["serve"]\n'
    assert container_argv(image_config(text, {}), command, args) == expected


def test_a_new_entrypoint_drops_an_earlier_cmd_and_shell_form_runs_through_sh() -> None:
    config = image_config('FROM python:3.11-slim\nCMD ["a"]\nENTRYPOINT run it\n', {})
    assert (config.entrypoint, config.cmd) == (["/bin/sh", "-c", "run it"], [])


def test_legacy_env_form_and_quoted_values() -> None:
    assert env_pairs("NAME some value", {}) == {"NAME": "some value"}
    assert env_pairs('A=1 B="${A}2"', {}) == {"A": "1", "B": "12"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("FROM python:3.11-slim\nHEALTHCHECK CMD true\n", "HEALTHCHECK"),
        ("RUN true\n", "no FROM"),
        ("FROM python:3.11-slim\nCOPY a b\n", "--from=STAGE"),
    ],
)
def test_what_it_does_not_understand_is_refused_by_name(text: str, named: str) -> None:
    with pytest.raises(DockerfileError, match=named):
        if "COPY" in text:
            copies_from(stages(text)[-1])
        else:
            image_config(text, {})
