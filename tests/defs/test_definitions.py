import subprocess
import sys

import dagster as dg
import pytest


def test_definitions_load_with_job_sensor_and_checks(data_dir):
    from renderfarm_dagster.definitions import defs

    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("render_catalog") is not None
    for sensor in ("spec_inbox_sensor", "spot_interruption_sensor", "render_failure_notifier"):
        assert defs.resolve_sensor_def(sensor) is not None
    check_names = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert check_names == {"product_verified"}
    for asset_key in (dg.AssetKey("rendered_variants"), dg.AssetKey("product_manifest")):
        spec = defs.resolve_assets_def(asset_key).specs_by_key[asset_key]
        assert spec.description and spec.group_name == "catalog" and spec.owners
        assert spec.kinds


def test_everything_the_ui_lists_is_described(data_dir):
    from renderfarm_dagster.definitions import defs

    graph = defs.resolve_asset_graph()
    undescribed = [
        key.name for key in graph.asset_check_keys if not graph.get_check_spec(key).description
    ]
    undescribed += [s.name for s in defs.sensors if not s.description]
    # Dagster's implicit __ASSET_JOB is its own, not listed as a job of ours.
    jobs = [job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    assert [job.name for job in jobs] == ["render_catalog"]
    undescribed += [job.name for job in jobs if not job.description]
    assert undescribed == []


def test_render_engine_imports_neither_dagster_nor_storage():
    code = (
        "import sys, renderfarm_dagster.render.variant, renderfarm_dagster.render.contact_sheet;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dagster', 'boto3') or "
        "m.startswith('renderfarm_dagster.storage')]; print(bad); sys.exit(1 if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_only_the_entry_points_import_the_deployment_module():
    """deployment/ picks the implementations of storage/, messaging/ and its own modules; were
    any module below it to import it back (as the definitions once did for their settings), one
    more import would make a cycle. Settings live in settings.py, which imports nothing."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "renderfarm_dagster"
    importers = set()
    for path in package.rglob("*.py"):
        if path.parent.name == "deployment":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(name.startswith("renderfarm_dagster.deployment") for name in names) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "renderfarm_dagster"
                and any(alias.name == "deployment" for alias in node.names)
            ):
                importers.add(path.relative_to(package).as_posix())
    # The entry points: the code location and the renderfarm command's modules.
    assert {importer.split("/")[0] for importer in importers} == {"definitions.py", "cli"}
    settings = (package / "settings.py").read_text()
    assert "renderfarm_dagster" not in settings.split('"""', 2)[2]


def test_unknown_deployment_is_a_clear_error(monkeypatch):
    from renderfarm_dagster.deployment import resources
    from renderfarm_dagster.settings import ConfigurationError

    monkeypatch.setenv("RENDERFARM_DEPLOYMENT", "moon")
    with pytest.raises(ConfigurationError, match="RENDERFARM_DEPLOYMENT='moon'"):
        resources()


def test_aws_deployment_names_every_missing_variable(monkeypatch):
    from renderfarm_dagster.deployment import resources
    from renderfarm_dagster.deployment.aws import AWS_REQUIRED
    from renderfarm_dagster.settings import ConfigurationError

    monkeypatch.setenv("RENDERFARM_DEPLOYMENT", "aws")
    for name in AWS_REQUIRED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RENDERFARM_BUCKET", "render-bucket")
    with pytest.raises(ConfigurationError) as error:
        resources()
    assert "RENDERFARM_BUCKET" not in str(error.value)
    assert all(name in str(error.value) for name in AWS_REQUIRED[1:])
