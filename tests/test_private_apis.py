"""Every private API of a dependency the project uses is listed in docs/design-notes.md ("Private
APIs of dependencies") with the test that guards what the project relies on. These tests read
that table: each listed API still exists, each guard test exists, and no private API is used in
the code without a row."""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TABLE_DOC = ROOT / "docs" / "design-notes.md"
# Where private APIs are looked for: the package, the tools and the tests, and the files that
# set Dagster's environment.
SCANNED = ("renderfarm_dagster", "bench", "chaos", "devkit", "tools", "tests")
CONFIG_FILES = ("Makefile", "infra/renderfarm.yaml", "deploy/dagster.yaml")
# The dependencies whose private names are looked for, and the names that are private by being
# undocumented rather than by a leading underscore.
DEPENDENCIES = ("dagster", "dagster_aws", "dagster_postgres", "cairosvg", "cairocffi")
UNDERSCORE_FREE = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": (
        "supports_partition_subset_in_asset_materialization_planned_events"
    ),
    "asset_partition_range_start": "ASSET_PARTITION_RANGE_START_TAG",
    "asset_partition_range_end": "ASSET_PARTITION_RANGE_END_TAG",
    "optimize_for_webserver": "optimize_for_webserver",
    "dagster_postgres.utils": "dagster_postgres.utils",
    "check_run_worker_health": "EcsRunLauncher.check_run_worker_health",
    "TAGS[": "cairosvg.surface.TAGS",
}


def _rows() -> list[dict[str, list[str]]]:
    section = TABLE_DOC.read_text().split("## Private APIs of dependencies", 1)[1]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        apis, used_in, _, guard = cells
        rows.append(
            {
                "apis": re.findall(r"`([\w.]+)`", apis.split("(")[0]),
                "mentioned": re.findall(r"`([^`]+)`", apis),
                "used_in": re.findall(r"`([^`]+)`", used_in),
                "guards": re.findall(r"`([^`]+)`", guard),
            }
        )
    return rows


ROWS = _rows()
LISTED = [api for row in ROWS for api in row["apis"]]


def test_the_table_is_there():
    assert len(ROWS) >= 10, f"{TABLE_DOC} has no private API table"


def _resolve(dotted: str):
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(dotted)


def _set_by_its_class(dotted: str) -> bool:
    """Whether the class a dotted name ends in sets the attribute on its instances, in its
    dependency's source (`EcsRunLauncher.ecs`, `cairocffi.Context._pointer`)."""
    owner, attribute = dotted.rsplit(".", 1)
    try:
        return any(
            re.search(rf"self\.{attribute}\s*=", inspect.getsource(klass))
            for klass in inspect.getmro(_resolve(owner))
            if klass is not object and klass.__module__.split(".")[0] in DEPENDENCIES
        )
    except (ImportError, AttributeError, OSError, TypeError):
        return False


@pytest.mark.parametrize("api", LISTED)
def test_each_listed_private_api_still_exists(api):
    try:
        _resolve(api)
    except (ImportError, AttributeError) as error:
        if not _set_by_its_class(api):
            pytest.fail(
                f"{api} (listed in {TABLE_DOC.name}, 'Private APIs of dependencies') is gone "
                f"from the installed dependency ({error}): the code using it must change"
            )


def test_dagster_still_reads_the_planned_events_switch():
    from dagster._core.storage.event_log.base import EventLogStorage

    source = inspect.getsource(
        EventLogStorage.supports_partition_subset_in_asset_materialization_planned_events.fget
    )
    assert "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS" in source, (
        "Dagster no longer reads DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS there: batch "
        "runs would plan one event per partition again (docs/scale-and-performance.md)"
    )


def test_the_range_run_tags_are_dagsters():
    from dagster._core.storage import tags as dagster_tags

    from renderfarm_dagster.defs import tags

    assert (tags.PARTITION_RANGE_START, tags.PARTITION_RANGE_END) == (
        dagster_tags.ASSET_PARTITION_RANGE_START_TAG,
        dagster_tags.ASSET_PARTITION_RANGE_END_TAG,
    ), "Dagster renamed the range run tags: defs/tags.py must follow"


@pytest.mark.parametrize("guard", sorted({g for row in ROWS for g in row["guards"]}))
def test_each_guard_test_exists(guard):
    path, _, name = guard.partition("::")
    source = ROOT / path
    assert source.is_file(), f"{TABLE_DOC.name} names a guard in {path}, which does not exist"
    names = {
        node.name
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.FunctionDef)
    }
    assert name in names, f"{TABLE_DOC.name} names a guard test {guard}, which does not exist"


def _docstring_lines(text: str) -> set[int]:
    """The lines of a module's docstrings: prose about an API is not a use of it."""
    lines = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(value.lineno, (value.end_lineno or value.lineno) + 1))
    return lines


def _private_uses(path: Path, text: str):
    """(what is used, line) for each use of a dependency's private API in one file."""
    dependency = "|".join(DEPENDENCIES)
    prose = _docstring_lines(text) if path.suffix == ".py" else set()
    for number, line in enumerate(text.splitlines(), start=1):
        if number in prose:
            continue
        code = line.split("#", 1)[0] if path.suffix == ".py" else line
        imported = re.match(rf"\s*from\s+((?:{dependency})(?:\.\w+)*)\s+import\s+(.+)", code)
        if imported and re.search(r"\._", imported.group(1)):
            for name in re.findall(r"\w+", imported.group(2).split(" as ")[0]):
                yield f"{imported.group(1)}.{name}", number
            continue
        for dotted in re.findall(rf"\b(?:{dependency})(?:\.\w+)*\._(?!_)\w+(?:\.\w+)*", code):
            yield dotted, number
        if "._pointer" in code:
            yield "._pointer", number
        for token, api in UNDERSCORE_FREE.items():
            if token in code:
                yield api, number


def _scanned_files():
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path != Path(__file__):
                yield path
    for name in CONFIG_FILES:
        yield ROOT / name


def _listed_for(use: str, relative: str) -> bool:
    for row in ROWS:
        if not any(
            relative == place or (place.endswith("/") and relative.startswith(place))
            for place in row["used_in"]
        ):
            continue
        if any(use in mentioned or mentioned.startswith(use) for mentioned in row["mentioned"]):
            return True
    return False


def test_no_private_api_is_used_without_a_row():
    unlisted = []
    for path in _scanned_files():
        relative = str(path.relative_to(ROOT))
        for use, line in _private_uses(path, path.read_text()):
            if not _listed_for(use, relative):
                unlisted.append(f"{relative}:{line} uses {use}")
    assert unlisted == [], (
        f"private APIs used without a row in {TABLE_DOC.name} ('Private APIs of dependencies'): "
        "list each with the test that guards it"
    )
