"""Render processes keep freed memory for the next variant (render/process_memory.py).

Measured in page faults, not time: a count the kernel keeps, the same on a busy machine.
"""

import json
import subprocess
import sys

import pytest

from renderfarm_dagster.render.process_memory import keep_freed_memory
from tests.conftest import V1_EXAMPLES

# Renders one example variant a few times in a fresh process and reports the page faults of
# the last render: the first ones warm fonts, caches and the heap (Pango's font and glyph
# caches take about five renders to fill).
PROBE = """
import json, resource, sys
from renderfarm_dagster.render.process_memory import keep_freed_memory
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.spec import parse_spec

spec = parse_spec(open(sys.argv[1], "rb").read(), sys.argv[1]).spec
if sys.argv[2] == "tuned":
    assert keep_freed_memory()
variant_id = spec.variants[0].variant_id
for _ in range(6):
    render_spec_variant(spec, variant_id)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
render_spec_variant(spec, variant_id)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before))
"""


def page_faults_of_a_warm_render(mode: str) -> int:
    spec = V1_EXAMPLES / "summit-jacket.json"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(spec), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


@pytest.mark.skipif(not keep_freed_memory(), reason="needs glibc's allocator")
def test_a_tuned_render_process_reuses_its_memory():
    default = page_faults_of_a_warm_render("default")
    tuned = page_faults_of_a_warm_render("tuned")
    # For this 1000 px product: 600 to 3,000 faults a variant by default, 100 to 200 when
    # freed memory is reused.
    assert tuned * 3 < default, (tuned, default)
