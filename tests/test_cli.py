import json

import pytest

from renderfarm_dagster.cli import main
from tests.conftest import EXAMPLES, spec_bytes


def test_validate_accepts_the_examples(capsys):
    assert main(["validate", str(EXAMPLES)]) == 0
    assert capsys.readouterr().out.count("ok ") == len(list(EXAMPLES.glob("*.json")))


def test_validate_lists_every_error_with_its_path(tmp_path, spec_doc, capsys):
    spec_doc["variants"][1]["colors"]["primary"] = "blue"
    spec_doc["outputs"][0]["format"] = "gif"
    broken = tmp_path / "broken.json"
    broken.write_bytes(spec_bytes(spec_doc))
    missing = tmp_path / "missing.json"
    assert main(["validate", str(broken), str(missing)]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert f"{broken}: variants[1].colors.primary: not a #rrggbb colour" in errors
    assert any(line.startswith(f"{broken}: outputs[0].format: must be one of") for line in errors)
    assert any(line.startswith(f"{missing}: $: cannot read file") for line in errors)


def test_validate_refuses_a_product_id_ending_in_a_newline(tmp_path, spec_doc, capsys):
    spec_doc["product_id"] = "test-shoe\n"
    spec = tmp_path / "newline.json"
    spec.write_bytes(spec_bytes(spec_doc))
    assert main(["validate", str(spec)]) == 1
    assert f"{spec}: product_id: not a valid id" in capsys.readouterr().err


def test_submit_stores_registers_and_reports_unchanged_and_rejected(
    tmp_path, spec_doc, data_dir, monkeypatch, capsys
):
    import dagster as dg

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    good = tmp_path / "in" / "good.json"
    good.parent.mkdir()
    good.write_bytes(spec_bytes(spec_doc))
    (tmp_path / "in" / "bad.json").write_text(json.dumps({"spec_version": 1}))
    assert main(["submit", str(good.parent)]) == 1
    out = capsys.readouterr()
    assert "submitted 1, unchanged 0, rejected 1" in out.out
    assert "bad.json: product_id: required field is missing" in out.err
    # The summary ends with each rejected file and its first problem.
    summary = out.err.split("rejected:\n")[-1].splitlines()
    assert len(summary) == 1 and summary[0].startswith(f"  {good.parent / 'bad.json'}: ")
    assert summary[0].endswith(" more problem(s))")
    assert (data_dir / "bucket" / "specs" / "test-shoe.json").read_bytes() == good.read_bytes()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("products") == ["test-shoe"]
    assert main(["submit", str(good)]) == 0
    assert "submitted 0, unchanged 1, rejected 0" in capsys.readouterr().out


def test_submit_without_dagster_home_says_why(monkeypatch, tmp_path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(SystemExit, match="DAGSTER_HOME is not set"):
        main(["submit", str(tmp_path)])
