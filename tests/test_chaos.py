"""`make chaos`, reduced: a few faults, so that the fault injection keeps working."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_catalog_survives_run_workers_killed_at_random(tmp_path):
    output = tmp_path / "chaos.json"
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "--faults", "4", "--variants", "2", "--seed", "7",
         "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["products"] >= 10
    assert sum(results["faults"].values()) >= 4
    assert results["outputs_lost"] == results["outputs_corrupt"] == 0
    assert results["manifests_differing"] == 0
