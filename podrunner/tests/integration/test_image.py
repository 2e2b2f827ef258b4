"""An image's file system built as its Dockerfile builds it, and reused while nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fdc_make.kind import IMAGE_DOCKERFILES
from fdc_podrunner.image import Toolchain, build_image
from fdc_podrunner.runner import REPO


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_the_venv_is_installed_not_linked_at_the_images_path_and_cached(pod_tools: None) -> None:
    dockerfile = REPO / IMAGE_DOCKERFILES["discord-relay"]
    cache = REPO / ".podrunner-cache"
    image = build_image("discord-relay", dockerfile, REPO, cache, Toolchain.of_this_machine())
    [venv] = [mount for mount in image.mounts if mount.target == "/app/.venv"]
    root = Path(venv.source)
    # Scripts name the interpreter where the image has it, not where the cache is.
    assert (root / "bin" / "uvicorn").read_text().splitlines()[0] == "#!/app/.venv/bin/python"
    site = root / "lib" / "python3.11" / "site-packages"
    assert (site / "discord_relay" / "app.py").is_file(), "--no-editable: the package is copied"
    path_files = [path.read_text() for path in site.glob("*.pth")]
    assert not [text for text in path_files if "/src" in text], "a path file points at sources"
    assert not (site / "fastdining_api").exists(), "only the relay's own dependencies"
    assert image.config.user == "10001:10001" and image.config.workdir == "/app"
    built = root.stat().st_mtime_ns
    again = build_image("discord-relay", dockerfile, REPO, cache, Toolchain.of_this_machine())
    assert again.mounts == image.mounts and root.stat().st_mtime_ns == built
