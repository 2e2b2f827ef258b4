"""Print the image a component chart runs by default, `<image.repository>:<tag>`.

The tag is `image.tag` of the chart's values.yaml, or the chart's `appVersion` when that is empty
(as the charts' templates do), so `make images` builds exactly what an install pulls:

    python scripts/chart_image.py fastdining-api      # fastdining/fastdining-api:0.1.0
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

CHARTS_DIR = Path(__file__).resolve().parents[1] / "charts"


def chart_image(chart: str, charts_dir: Path = CHARTS_DIR) -> str:
    """The default image reference of `charts_dir/chart`; ValueError naming what is missing."""
    directory = charts_dir / chart
    values = yaml.safe_load((directory / "values.yaml").read_text(encoding="utf-8")) or {}
    metadata = yaml.safe_load((directory / "Chart.yaml").read_text(encoding="utf-8")) or {}
    image = values.get("image") or {}
    repository = image.get("repository")
    if not repository:
        raise ValueError(f"{directory / 'values.yaml'}: no image.repository")
    tag = image.get("tag") or metadata.get("appVersion")
    if not tag:
        raise ValueError(f"{directory}: neither image.tag nor Chart.yaml appVersion is set")
    return f"{repository}:{tag}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: chart_image.py CHART", file=sys.stderr)
        return 2
    try:
        print(chart_image(argv[0]))
    except (OSError, ValueError) as error:
        print(f"chart_image.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
