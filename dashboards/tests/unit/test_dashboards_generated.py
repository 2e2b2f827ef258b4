"""The committed JSON is what the generator writes, and the generator writes the same twice."""

from __future__ import annotations

from pathlib import Path

from fdc_dashboards import cli, generate


def test_the_committed_json_is_what_the_generator_writes() -> None:
    assert generate.differences() == [], "regenerate with `make dashboards`"


def test_the_umbrella_ships_the_three_dashboards() -> None:
    names = sorted(path.name for path in generate.OUTPUT_DIR.glob("*.json"))
    assert names == ["fdc-alerting-path.json", "fdc-services.json", "fdc-slos.json"]


def test_writing_is_reproducible_and_removes_stale_files(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    first = {path.name: path.read_bytes() for path in generate.write(tmp_path)}
    second = {path.name: path.read_bytes() for path in generate.write(tmp_path)}
    assert first == second
    assert sorted(path.name for path in tmp_path.glob("*.json")) == sorted(first)


def test_check_fails_on_a_changed_file_and_names_it(tmp_path: Path, capsys) -> None:
    generate.write(tmp_path)
    assert cli.main(["check", "--dir", str(tmp_path)]) == 0
    edited = tmp_path / "fdc-slos.json"
    edited.write_text(edited.read_text().replace('"SLOs"', '"Edited"'))
    assert cli.main(["check", "--dir", str(tmp_path)]) == 1
    assert "fdc-slos.json: differs" in capsys.readouterr().err
