"""The one module that talks to the Kubernetes API (through lightkube's async client).

Everything above it passes plain dictionaries in and gets plain dictionaries or `KubeError` out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from lightkube import AsyncClient, KubeConfig
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

from sloalert.conventions import FIELD_MANAGER, PROMETHEUS_RULES, SLOALERTS

PrometheusRule = create_namespaced_resource(*PROMETHEUS_RULES)
SLOAlertResource = create_namespaced_resource(*SLOALERTS)

# Requests in flight at once. Each is a TLS connection with its own buffers: without a bound,
# a thousand SLOAlerts created together open hundreds of connections and the memory they hold.
MAX_REQUESTS = 16

# Answers that mean "this API has no such thing" or "we may not look": the labels are unknown.
_UNKNOWN_NAMESPACE = frozenset({401, 403, 404})


class KubeError(Exception):
    """The API refused or could not be reached; the message says what was attempted and why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Kube:
    def __init__(self, client: AsyncClient, *, max_requests: int = MAX_REQUESTS) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(max_requests)

    @classmethod
    def from_environment(cls) -> Kube:
        """In-cluster service account, else KUBECONFIG or ~/.kube/config."""
        return cls(AsyncClient(config=KubeConfig.from_env(), field_manager=FIELD_MANAGER))

    async def close(self) -> None:
        await self._client.close()

    async def create_rule(self, rule: Mapping[str, Any]) -> None:
        """Create the PrometheusRule; KubeError 409 when one of that name exists already."""
        metadata = rule["metadata"]
        async with self._request(
            f"create PrometheusRule {metadata['namespace']}/{metadata['name']}"
        ):
            await self._client.create(PrometheusRule(rule), field_manager=FIELD_MANAGER)

    async def get_rule(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The PrometheusRule as it is now; None when there is none."""
        try:
            async with self._request(f"read PrometheusRule {namespace}/{name}"):
                found = await self._client.get(PrometheusRule, name=name, namespace=namespace)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        return found.to_dict()

    async def update_rule(self, rule: Mapping[str, Any], resource_version: str) -> None:
        """Write the rule's labels, annotations, ownerReferences and spec over the version read.

        A merge patch: labels and annotations others added stay, the spec is replaced whole
        (groups others added go). `resource_version` makes it conditional: KubeError 409 when
        the rule changed since it was read (it may no longer be ours), 404 when it is gone.
        """
        metadata = rule["metadata"]
        patch: dict[str, Any] = {
            "metadata": {
                "resourceVersion": resource_version,
                "labels": metadata.get("labels") or {},
                "ownerReferences": metadata["ownerReferences"],
            },
            "spec": rule["spec"],
        }
        if metadata.get("annotations"):
            patch["metadata"]["annotations"] = metadata["annotations"]
        async with self._request(
            f"update PrometheusRule {metadata['namespace']}/{metadata['name']}"
        ):
            await self._client.patch(
                PrometheusRule,
                metadata["name"],
                patch,
                namespace=metadata["namespace"],
                patch_type=PatchType.MERGE,
                field_manager=FIELD_MANAGER,
            )

    async def patch_sloalert_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        async with self._request(f"write the status of SLOAlert {namespace}/{name}"):
            await self._client.patch(
                SLOAlertResource.Status,
                name,
                {"status": dict(status)},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            )

    async def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        """The namespace's labels; None when this API has no Namespaces or we may not read them."""
        try:
            async with self._request(f"read namespace {namespace}"):
                found = await self._client.get(Namespace, name=namespace)
        except KubeError as exc:
            if exc.status in _UNKNOWN_NAMESPACE:
                return None
            raise
        return dict((found.metadata.labels if found.metadata else None) or {})

    @asynccontextmanager
    async def _request(self, what: str) -> AsyncIterator[None]:
        """One request slot; lightkube's and the transport's errors become a KubeError."""
        async with self._slots:
            try:
                yield
            except ApiError as exc:
                status = exc.status
                message = f"{what}: {status.code} {status.reason}: {status.message}"
                raise KubeError(message, status.code) from exc
            except httpx2.HTTPError as exc:
                raise KubeError(f"{what}: {exc!r}") from exc
