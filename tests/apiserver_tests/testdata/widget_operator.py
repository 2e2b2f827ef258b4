"""A tiny kopf operator for the tests: it answers every new Widget in the Widget's status."""

import kopf


@kopf.on.create("apiserver-tests.example.com", "v1", "widgets")
def mark_seen(spec: kopf.Spec, patch: kopf.Patch, **_: object) -> None:
    patch.status["phase"] = f"seen size {spec['size']}"
