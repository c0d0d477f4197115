"""What every `renderfarm` command shares: its exit codes and the Dagster instance products are
registered in."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def dagster_instance() -> dg.DagsterInstance:
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        raise SystemExit(
            "DAGSTER_HOME is not set: products are registered in the Dagster instance that will "
            "render them. Set it to the folder `dagster dev` and `dagster job execute` use, e.g. "
            "export DAGSTER_HOME=$PWD/.dagster_home"
        )
    return dg.DagsterInstance.get()
