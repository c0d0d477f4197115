"""No import runs up the layers: each module imports only from its own part of the package and
the parts below it. A new top-level module fails here until it is given its place."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "renderfarm_dagster"

# Lowest first. A part may import itself and anything in an earlier tier.
TIERS = [
    # Plain values and their validation: no I/O, no rendering.
    {
        "settings", "keys", "problems", "formats", "market", "layers", "json_paths",
        "spec_fields", "sqlite_file", "output_record",
    },
    {"render"},  # the render engine: templates and their layer kinds, layout, pixels
    # Spec files, validated against templates: the render engine never sees the spec's models.
    {"spec"},
    {"storage"},
    {"messaging"},
    {"catalog"},  # operations over storage and queues
    {"cluster", "ecs", "defs"},  # Dagster glue, and where runs execute
    {"launcher", "instance_storage", "worker"},  # production's Dagster plumbing
    {"deployment"},  # picks the implementations
    {"definitions", "cli"},  # entry points
]  # fmt: skip
TIER_OF = {part: index for index, tier in enumerate(TIERS) for part in tier}


def _part(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _imported_parts(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "renderfarm_dagster"
        ):
            if node.module == "renderfarm_dagster":
                yield from ((alias.name, node.lineno) for alias in node.names)
            else:
                yield node.module.split(".")[1], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("renderfarm_dagster."):
                    yield alias.name.split(".")[1], node.lineno


def test_every_part_of_the_package_has_a_tier():
    parts = {_part(path) for path in PACKAGE.rglob("*.py")} - {"__init__"}
    assert parts - set(TIER_OF) == set(), "place each new module in TIERS"


def test_no_import_runs_up_the_layers():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = _part(path)
        if part == "__init__":
            continue
        for imported, line in _imported_parts(ast.parse(path.read_text())):
            if imported != part and TIER_OF[imported] > TIER_OF[part]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert upward == []


# A deployment's adapters, and who may import them: deployment/ picks them; the production run
# launcher is the aws deployment's own (deploy/dagster.yaml names it) and reads ECS's tags.
IMPLEMENTATIONS = {
    "renderfarm_dagster.storage.local": set(),
    "renderfarm_dagster.storage.aws": set(),
    "renderfarm_dagster.messaging.local": set(),
    "renderfarm_dagster.messaging.aws": set(),
    "renderfarm_dagster.ecs": {"launcher.py"},
}


def test_only_the_deployment_imports_a_deployments_implementations():
    elsewhere = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "deployment":
            continue
        own_module = "renderfarm_dagster." + ".".join(relative.with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                allowed = IMPLEMENTATIONS.get(name)
                if allowed is not None and name != own_module and str(relative) not in allowed:
                    elsewhere.append(f"{relative}:{node.lineno} imports {name}")
    assert elsewhere == [], "only renderfarm_dagster/deployment/ picks implementations"
