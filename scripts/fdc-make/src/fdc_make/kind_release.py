"""The kind releases the kind path accepts, and the node image each one's release notes name.

THE one place: `make up` creates the cluster with the node image of the kind it finds
(`kind create cluster --image`), so the image always belongs to the kind that runs it, as kind's
release notes ask ("You must use the @sha256 digest to guarantee an image built for this release").
kind 0.32 is the oldest: manifests/kind/cluster.yaml's kubeadm patches use v1beta4 `extraArgs`
lists, which kind merges by name only since 0.32 (0.31 replaces them and `kubeadm init` fails).
A kind newer than every entry is refused, naming this file: add its release notes' image here.
"""

from __future__ import annotations

Version = tuple[int, ...]

# kind release (major, minor) -> kindest/node for Kubernetes 1.36 from that release's notes.
NODE_IMAGES: dict[Version, str] = {
    (0, 32): "kindest/node:v1.36.1"
    "@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5",
    (0, 33): "kindest/node:v1.36.4"
    "@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed",
}
MINIMUM: Version = min(NODE_IMAGES)
NEWEST: Version = max(NODE_IMAGES)


class UnknownKindRelease(ValueError):
    """A kind this path has no node image for."""


def _dotted(version: Version) -> str:
    return ".".join(map(str, version))


def node_image(kind_version: Version) -> str:
    """The node image for this kind, or UnknownKindRelease saying what to do."""
    release = tuple(kind_version[:2])
    if release in NODE_IMAGES:
        return NODE_IMAGES[release]
    if release < MINIMUM:
        raise UnknownKindRelease(
            f"kind {_dotted(kind_version)} is older than {_dotted(MINIMUM)}, the oldest that "
            "merges manifests/kind/cluster.yaml's kubeadm patches: install kind "
            f"{_dotted(NEWEST)} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
        )
    raise UnknownKindRelease(
        f"kind {_dotted(kind_version)} is newer than every release whose node image the kind path "
        f"pins ({', '.join(_dotted(v) for v in sorted(NODE_IMAGES))}): add the kindest/node image "
        f"its release notes name for Kubernetes 1.36 to NODE_IMAGES in {__file__}, or use kind "
        f"{_dotted(NEWEST)}"
    )
