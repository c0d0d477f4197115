"""The README and docs/ hold together: every relative link reaches a file, and every #anchor a
heading of it (GitHub's anchors), so moving a section cannot leave a link pointing nowhere."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """GitHub's anchor of each heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    headings = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def links(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z]+:", target):
            yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_reaches_its_file_and_heading(page):
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        reached = (page.parent / file).resolve() if file else page
        if not reached.exists():
            broken.append(f"{target}: no such file")
        elif anchor and reached.suffix == ".md" and anchor not in anchors(reached):
            broken.append(f"{target}: no heading with that anchor in {reached.name}")
    assert broken == [], f"{page.relative_to(ROOT)} links nowhere"


def test_the_readme_stays_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= 200, f"README.md is {lines} lines: move the detail to docs/"


def test_the_readmes_layout_names_every_part_of_the_package():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout of the code", 1)[1].split("\n## ", 1)[0]
    package = ROOT / "renderfarm_dagster"
    parts = {
        f"{path.name}/" if path.is_dir() else path.name
        for path in package.iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py")
        or (path.is_dir() and not path.name.startswith("__"))
    }
    missing = sorted(part for part in parts if part not in layout)
    assert missing == [], f"README.md's 'Layout of the code' does not name {missing}"


def test_every_docs_page_the_code_names_exists():
    named = set()
    for folder in ("renderfarm_dagster", "bench", "chaos", "devkit", "tools", "tests", "infra"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".yaml", ".sh") and path.is_file():
                named |= set(re.findall(r"docs/[\w./-]+?\.md", path.read_text()))
    named |= set(re.findall(r"docs/[\w./-]+?\.md", (ROOT / "Makefile").read_text()))
    missing = sorted(page for page in named if not (ROOT / page).is_file())
    assert missing == [], f"the code names docs pages that do not exist: {missing}"
