"""A batch the spec sensor requests, run through Dagster: each product materialises on its own,
and a spot retry of the batch resumes it whole."""

import dagster as dg

from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from renderfarm_dagster.defs.spot_sensor import retry_request
from renderfarm_dagster.deployment import cluster
from tests.conftest import spec_bytes
from tests.daemon import SensorDriver, partitions_of
from tests.defs.test_assets import materialize, metadata_by_partition


def test_a_sensor_batch_materialises_each_product_and_its_spot_retry_resumes_it(
    storage, messaging, instance, spec_doc
):
    ids = ["batch-a", "batch-b", "batch-c"]
    for product_id in ids:
        doc = {**spec_doc, "product_id": product_id}
        storage.objects().put(f"specs/{product_id}.json", spec_bytes(doc), "application/json")
    driver = SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})
    (request,) = driver.tick().run_requests
    assert partitions_of(request, instance) == ids

    first = materialize(storage, instance, tags=request.tags)
    assert first.success
    # One planned event per asset for the whole range: what keeps creating a 1,000-product
    # run at about 2 s instead of 23 s (docs/scale-and-performance.md).
    planned = instance.get_records_for_run(
        first.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ).records
    assert len(planned) == 2
    rendered = metadata_by_partition(first, "rendered_variants")
    # One materialisation per product, each with its own figures, as the UI shows them.
    assert {p: m["rendered"] for p, m in rendered.items()} == dict.fromkeys(ids, 9)
    assert set(metadata_by_partition(first, "product_manifest")) == set(ids)
    for product_id in ids:
        (event,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("rendered_variants"), asset_partitions=[product_id]
            ),
            limit=1,
        ).records
        assert event.partition_key == product_id

    # The batch run was interrupted: its retry targets the same range and skips what is done.
    (run,) = driver.launched
    retry = retry_request(run, escalate_after=2, cluster=cluster())
    assert retry.partition_key is None
    assert (retry.tags[tags.PARTITION_RANGE_START], retry.tags[tags.PARTITION_RANGE_END]) == (
        "batch-a",
        "batch-c",
    )
    resumed = materialize(storage, instance, tags=retry.tags)
    assert resumed.success
    again = metadata_by_partition(resumed, "rendered_variants")
    assert {p: (m["rendered"], m["skipped"]) for p, m in again.items()} == dict.fromkeys(
        ids, (0, 9)
    )
