"""A tiny kopf operator for the tests: it answers every new Widget in the Widget's status."""

import kopf


@kopf.on.create("apiserver-tests.example.com", "v1", "widgets")
def mark_seen(spec: kopf.Spec, patch: kopf.Patch, **_: object) -> None:
    patch.status["phase"] = f"seen size {spec['size']}"


# The test runs it with a registry of its own, which has none of kopf's fallback logins.
@kopf.on.login()
def login(**kwargs: object) -> kopf.ConnectionInfo | None:
    return kopf.login_with_kubeconfig(**kwargs)
