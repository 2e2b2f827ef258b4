"""The umbrella's README values table is generated from values.yaml's @param comments, and its
schema covers exactly those keys (the subcharts' sections are theirs to document and check)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import yaml
from testkit import chart_stub, helm
from testkit.tools import REPO_ROOT

from .test_chart_common import _leaf_types, _readme_generator

UMBRELLA = helm.chart_path("fdc-stack")
CRDS = helm.chart_path("sloalert-operator") / "crds"
SUBCHARTS = (
    "fastdining-api",
    "airestaurant",
    "discord-relay",
    "sloalert-operator",
    "kube-prometheus-stack",
)
REGENERATE = (
    "node_modules/.bin/readme-generator --values charts/fdc-stack/values.yaml "
    "--readme charts/fdc-stack/README.md"
)


def test_readme_table_and_schema_follow_the_values(tmp_path: Path) -> None:
    copy = tmp_path / "README.md"
    shutil.copy(UMBRELLA / "README.md", copy)
    subprocess.run(
        [str(_readme_generator()), "--values", str(UMBRELLA / "values.yaml"),
         "--readme", str(copy), "--schema", str(tmp_path / "schema.json")],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert copy.read_text() == (UMBRELLA / "README.md").read_text(), f"stale: run `{REGENERATE}`"
    generated = _leaf_types(json.loads((tmp_path / "schema.json").read_text()))
    # The generator leaves `[object]` params (free-form maps) out of its schema; ours has them.
    free_form = re.findall(
        r"^## @param (\S+) \[object\]", (UMBRELLA / "values.yaml").read_text(), re.M
    )
    generated |= {path: {"object"} for path in free_form}
    ours = {
        path: kinds
        for path, kinds in _leaf_types(
            json.loads((UMBRELLA / "values.schema.json").read_text())
        ).items()
        if path != "global" and path.split(".")[0] not in SUBCHARTS
    }
    assert ours.keys() == generated.keys(), "schema and @param keys differ"
    for path, kinds in generated.items():
        assert kinds <= ours[path], f"{path} is {ours[path]} in the schema, not {kinds}"


# --- The root README's "Install on any cluster": each command, run as far as it can be here ----

PUBLISHED = "oci://ghcr.io/fastdining/charts/fdc-stack"
RAW = "https://raw.githubusercontent.com/fastdining/fastdining-observability/vx.y.z/"
HEREDOC = re.compile(r"^cat > (\S+) <<'YAML'\n(.*?)\nYAML$", re.S | re.M)


def _any_cluster_commands() -> tuple[list[list[str]], dict[str, str]]:
    """The section's shell commands as words (continuations joined, comments dropped), and
    the files its heredocs write, by name."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("\n## Install on any cluster\n", 1)[1].split("\n## ", 1)[0]
    script = "\n".join(re.findall(r"```bash\n(.*?)```", section, re.S))
    heredocs = {name: body + "\n" for name, body in HEREDOC.findall(script)}
    script = HEREDOC.sub("", script).replace("\\\n", " ")
    commands = [
        shlex.split(line)
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return commands, heredocs


def _install_flags(words: list[str], files: dict[str, Path]) -> tuple[str, list[Path], dict]:
    """The namespace, values files and `--set` pairs of one `helm install` of the chart."""
    assert words[:6] == ["helm", "install", "fdc", PUBLISHED, "--version", "x.y.z"], words
    namespace, values, sets = "", [], {}
    rest = iter(words[6:])
    for word in rest:
        if word == "-n":
            namespace = next(rest)
        elif word == "-f":
            values.append(files[next(rest)])
        elif word == "--set":
            key, _, value = next(rest).partition("=")
            sets[key] = value
        else:
            raise AssertionError(f"{word!r}: a flag this test does not know in {words}")
    return namespace, values, sets


def test_every_command_of_the_any_cluster_section_works_as_written(tmp_path: Path) -> None:
    """Each command, as far as it runs without a cluster: every URL is a file of this
    repository at the tag, `kubectl get` names kinds the charts define, the heredoc values file
    is written, and each `helm install` renders the umbrella (over the kube-prometheus-stack
    stand-in) with exactly its flags, the relay reading its webhook from the Secret the README
    creates in that namespace, and Django's database on the claim the values file sizes."""
    commands, heredocs = _any_cluster_commands()
    files: dict[str, Path] = {}
    for name, body in heredocs.items():
        files[name] = tmp_path / name
        files[name].write_text(body)
    webhook_secrets: dict[str, str] = {}
    installs = []
    for words in commands:
        if words[0] == "curl" or words[:2] == ["kubectl", "apply"]:
            [url] = [word for word in words if word.startswith("https://")]
            assert url.startswith(RAW) and (REPO_ROOT / url.removeprefix(RAW)).is_file(), url
            files[url.rsplit("/", 1)[1]] = REPO_ROOT / url.removeprefix(RAW)
        elif words[:3] == ["kubectl", "create", "namespace"]:
            continue
        elif words[3:6] == ["create", "secret", "generic"]:
            assert words[7] == "--from-file=webhook-url=./discord-webhook-url", words
            webhook_secrets[words[2]] = words[6]
        elif words[3:4] == ["get"]:
            crd = yaml.safe_load(next(CRDS.glob("*.yaml")).read_text())
            shipped = {"pods", *crd["spec"]["names"]["shortNames"]}
            assert set(words[4].split(",")) <= shipped, words
        elif words[:2] == ["helm", "install"]:
            installs.append(_install_flags(words, files))
        else:
            raise AssertionError(f"a command this test does not know: {words}")
    assert [namespace for namespace, _, _ in installs] == ["monitoring", "team-a"]
    for namespace, values, sets in installs:
        rendered = chart_stub.render_umbrella(namespace=namespace, values=values, sets=sets)
        relay = _workload(rendered, "discord-relay")
        sources = relay["spec"]["template"]["spec"]["volumes"][0]["projected"]["sources"]
        webhook = [s["secret"]["name"] for s in sources if "webhook-url" in str(s)]
        assert webhook == [webhook_secrets[namespace]], namespace
        [claim] = rendered.of_kind("PersistentVolumeClaim")
        assert claim["metadata"]["namespace"] == namespace
    [claim] = chart_stub.render_umbrella(values=[files["fdc-values.yaml"]]).of_kind(
        "PersistentVolumeClaim"
    )
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"


def _workload(rendered: helm.Rendered, chart: str) -> dict:
    [deployment] = [
        d
        for d in rendered.of_kind("Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/name"] == chart
    ]
    return deployment
