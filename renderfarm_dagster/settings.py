"""Settings read from the environment: which deployment this is and how it is tuned.

Below both the Dagster definitions and the deployment module (which picks the implementations):
it imports nothing of this package, so either may read it.
"""

from __future__ import annotations

import os
from pathlib import Path

DEPLOYMENTS = ("local", "aws")
DEFAULT_DATA_DIR = "renderfarm-data"
DEFAULT_PARTITIONS_PER_RUN = 10
DEFAULT_ESCALATE_AFTER = 2
DEFAULT_UI_URL = "http://localhost:3000"
# Batched sensor runs (docs/scale-and-performance.md): a run is sized to about this much rendering,
# estimated from its outputs' pixels at this rate (what the stack's default 1-vCPU task
# renders: `make bench` measures about 47 megapixels/s with one render process).
DEFAULT_TARGET_RUN_S = 900
DEFAULT_RENDER_MEGAPIXELS_PER_S = 45
DEFAULT_MAX_PRODUCTS_PER_RUN = 1000
# How often the spec sensor re-lists specs/ to catch uploads whose notification never came:
# locally there are no notifications (specs are dropped into a folder), so every tick.
SPEC_SWEEP_INTERVAL_S = {"local": 0, "aws": 600}
# How long a valid spec waits for photos, a template or brand fonts not stored yet before it is
# requested anyway (and its run reports what is missing).
DEFAULT_MAX_WAIT_HOURS = 24


class ConfigurationError(ValueError):
    """An environment variable with a value this project cannot use."""


def deployment_name() -> str:
    name = os.environ.get("RENDERFARM_DEPLOYMENT", "local")
    if name not in DEPLOYMENTS:
        raise ConfigurationError(
            f"RENDERFARM_DEPLOYMENT={name!r} is not a deployment; choose one of {DEPLOYMENTS}"
        )
    return name


def local_data_dir() -> Path:
    """RENDERFARM_DATA_DIR, or ./renderfarm-data, made absolute so every process agrees."""
    return Path(os.environ.get("RENDERFARM_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(f"{name}={raw!r} must be a whole number >= 1")
    return value


def partitions_per_run() -> int:
    """How many products one backfill run renders (each run is a cold container in production)."""
    return _positive_int("RENDERFARM_PARTITIONS_PER_RUN", DEFAULT_PARTITIONS_PER_RUN)


def target_run_seconds() -> int:
    """About how long one run the sensors request should render, start-up excluded."""
    return _positive_int("RENDERFARM_TARGET_RUN_SECONDS", DEFAULT_TARGET_RUN_S)


def render_megapixels_per_s() -> int:
    """Output megapixels one run task renders per second: sizes runs by their work."""
    return _positive_int("RENDERFARM_RENDER_MEGAPIXELS_PER_S", DEFAULT_RENDER_MEGAPIXELS_PER_S)


def max_products_per_run() -> int:
    """At most this many products in one run the sensors request, however small they are."""
    return _positive_int("RENDERFARM_MAX_PRODUCTS_PER_RUN", DEFAULT_MAX_PRODUCTS_PER_RUN)


def escalate_after_interruptions() -> int:
    """Interruptions of the same partitions after which the retry asks for on-demand capacity."""
    return _positive_int("RENDERFARM_ESCALATE_AFTER_INTERRUPTIONS", DEFAULT_ESCALATE_AFTER)


def spec_sweep_interval_s() -> int:
    return SPEC_SWEEP_INTERVAL_S[deployment_name()]


def max_wait_seconds() -> int:
    """How long a spec may wait for its inputs (RENDERFARM_MAX_WAIT_HOURS) before it is
    requested anyway."""
    return _positive_int("RENDERFARM_MAX_WAIT_HOURS", DEFAULT_MAX_WAIT_HOURS) * 3600


def ui_url() -> str:
    """The Dagster UI's address, for links in notifications."""
    return os.environ.get("RENDERFARM_UI_URL", DEFAULT_UI_URL).rstrip("/")
