"""A render run started as a production run worker starts it: for `make bench`, `make chaos`
and the tests that interrupt or overlap run workers.

`renderfarm-worker dagster job execute ...`: the wrapper that turns SIGTERM (the spot warning)
into Dagster's interruption, then exits 143.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def launch_worker(
    env: dict[str, str], run_config: Path, run_tags: dict[str, str], log: Path
) -> subprocess.Popen:
    """The run worker, in its own process group (so that SIGKILL can take the whole task)."""
    # A file, not a pipe: nobody reads while the run works, and a full pipe would stall it.
    with log.open("w") as stderr:  # the worker keeps its own copy
        return subprocess.Popen(
            [
                str(BIN / "renderfarm-worker"),
                str(BIN / "dagster"),
                "job",
                "execute",
                "-m",
                "renderfarm_dagster.definitions",
                "-j",
                "render_catalog",
                "-c",
                str(run_config),
                "--tags",
                json.dumps(run_tags),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
