"""`make chaos`, reduced: a few faults in each deployment, so that the fault injection keeps
working."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_catalog_survives_run_workers_killed_at_random(tmp_path):
    output = tmp_path / "chaos.json"
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "--local-faults", "2", "--aws-faults", "2",
         "--variants", "2", "--seed", "7", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["products"] >= 10
    for deployment in ("local", "aws"):  # the aws one on a moto server
        figures = results[deployment]
        assert sum(figures["faults"].values()) >= 2
        assert figures["outputs_lost"] == figures["outputs_corrupt"] == 0
        assert figures["manifests_differing"] == 0
        assert figures["checks_passed"] == figures["checks"] > 0
        # The batch's bad product: failed and reported once per episode, never blocking.
        assert set(figures["bad_product_failures_announced"]) == {1}
        assert figures["products_not_announced"] == 0
        assert figures["announcements_per_product_max"] == 1
