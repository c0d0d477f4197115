"""The largest work a spec may ask for stays within the memory documented in
docs/reliability-and-security.md."""

import json
import subprocess
import sys

from renderfarm_dagster.formats import FORMATS as FORMAT_REGISTRY
from renderfarm_dagster.spec import parse_spec
from tests.hostile.corpus import encoded, with_field

# docs/reliability-and-security.md, "Reliability": the largest variant the spec format allows
# (8 outputs at 4096 px) peaks at about 470 MiB in its render process; a render worker needs
# at most this much.
MAX_VARIANT_PEAK_MIB = 768
FORMATS = list(FORMAT_REGISTRY)
LARGEST_OUTPUTS = [
    {"name": f"o{i}", "width": 4096, "height": 4096 - i, "format": FORMATS[i % 3]} for i in range(8)
]

MEASURE = """
import json, sys
from renderfarm_dagster.render.process_memory import keep_freed_memory
from renderfarm_dagster.catalog.rendering import render_spec_variant
from renderfarm_dagster.formats import FORMATS as FORMAT_REGISTRY
from renderfarm_dagster.spec import parse_spec
keep_freed_memory()  # as every render worker does
spec = parse_spec(sys.stdin.buffer.read(), "largest.json").spec
outputs = render_spec_variant(spec, spec.variants[0].variant_id)
# VmHWM is this process's own peak: ru_maxrss keeps the peak of the process that forked it
# (Linux carries it across exec), here pytest's.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
print(json.dumps({"outputs": len(outputs), "peak_mib": peak_kib / 1024}))
"""


def test_the_largest_spec_allowed_is_accepted():
    colours = {"primary": "#123456", "accent": "#abcdef"}
    variants = [
        {"variant_id": f"v{i:03d}", "label": f"Variant {i}", "colors": colours} for i in range(500)
    ]
    doc = with_field(("outputs",), LARGEST_OUTPUTS, with_field(("variants",), variants))
    spec = parse_spec(encoded(doc), "largest.json").spec
    assert (len(spec.variants), len(spec.outputs)) == (500, 8)


def test_the_largest_variant_renders_within_the_documented_memory():
    doc = with_field(("outputs",), LARGEST_OUTPUTS)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE],
        input=encoded(doc),
        capture_output=True,
        check=True,
    )
    report = json.loads(done.stdout.decode().splitlines()[-1])
    assert report["outputs"] == 8
    assert report["peak_mib"] < MAX_VARIANT_PEAK_MIB, report
