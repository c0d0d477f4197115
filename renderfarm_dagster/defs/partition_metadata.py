"""Each product's own metadata on its partition's materialisation, in a run of many products.

Dagster 1.13's `context.add_asset_metadata(metadata, partition_key=...)` checks that the key is
one the run targets by resolving the run's whole range, which reads every key of the dynamic
partitions definition from the instance: 0.26 s a call at 100,000 products (SQLite, measured),
two calls per product (the render and the manifest), about as long as rendering the product. The
keys a run gives here are its own partition keys, resolved once when the step starts, so the
check is made against that set and the metadata is added to the step's metadata accumulator as
`add_asset_metadata` does after its check. That accumulator is Dagster's private state: when it
is not where 1.13 keeps it, the public method is used (correct, only slower), and
tests/defs/test_partition_metadata.py fails so that the change is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg


class PartitionMetadata:
    """Adds metadata to single partitions of the asset a step materialises."""

    def __init__(self, context: dg.AssetExecutionContext, partition_keys: Sequence[str]):
        self._context = context
        self._targeted = frozenset(partition_keys)
        self._step = getattr(context.op_execution_context, "_step_execution_context", None)

    @property
    def fast(self) -> bool:
        """Whether metadata goes straight to Dagster's accumulator (no range resolution)."""
        return hasattr(self._step, "_metadata_accumulator")

    def add(self, partition_key: str, metadata: Mapping[str, Any]) -> None:
        if partition_key not in self._targeted:
            raise dg.DagsterInvariantViolationError(
                f"partition {partition_key!r} is not one this run materialises"
            )
        if not self.fast:
            self._context.add_asset_metadata(metadata, partition_key=partition_key)
            return
        step = self._step
        step._metadata_accumulator = step._metadata_accumulator.with_additional_asset_metadata(
            asset_key=self._context.assets_def.key,
            partition_key=partition_key,
            metadata=metadata,
        )
