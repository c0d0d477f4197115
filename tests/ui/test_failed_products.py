"""A batch with bad inputs, through the real webserver and daemon, on both deployments: one run
over 100 products (as the spec sensor batches them) of which three have a bad photo publishes
the other 97 and shows the three as failed, each with its reason, as the UI reads them; a
backfill of the failed subset, once the photos are fixed, renders only those three."""

import json
from contextlib import contextmanager
from pathlib import Path

import pytest

from devkit import drops
from tests.ui import graphql
from tests.ui.browser import open_page, screenshots
from tests.ui.dagster_ui import BIN, new_ui

PRODUCTS = drops.product_ids(100, prefix="p")
# Three different bad inputs among them, not at the ends of the range.
BAD = {"p-00017": "truncated", "p-00050": "missing", "p-00083": "oversized"}
GOOD = [p for p in PRODUCTS if p not in BAD]


@contextmanager
def deployed(deployment: str, request):
    """The store the UI's processes use, and their environment."""
    if deployment == "local":
        yield None, {}
        return
    aws = request.getfixturevalue("aws")
    from renderfarm_dagster.deployment import storage

    with storage() as resource:
        yield resource.objects(), aws.environment()


@pytest.mark.parametrize("deployment", ["local", "aws"])
def test_a_batch_publishes_its_good_products_and_fails_the_bad_ones_with_reasons(
    deployment, request, tmp_path, browser
):
    with deployed(deployment, request) as (objects, environment):
        ui = new_ui(tmp_path / "ui", deployment=environment, partitions_per_run=100)
        try:
            run_scenario(deployment, ui, objects, request, tmp_path, browser)
        finally:
            ui.stop()


def run_scenario(deployment, ui, objects, request, tmp_path, browser):
    if objects is None:
        from renderfarm_dagster.storage.local import LocalObjectStore

        objects = LocalObjectStore(ui.bucket)
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "lookbook.svg").write_bytes(drops.TEMPLATE)
    for index, product_id in enumerate(PRODUCTS):
        (folder / f"{product_id}.json").write_bytes(drops.spec(product_id))
        drops.store_photo(objects, product_id, index, BAD.get(product_id))
    # The template and specs stored and the 100 partitions registered, as a team submits them.
    ui.run(str(BIN / "renderfarm"), "submit", str(folder))
    ui.start_webserver()
    # The backfills and runs here are what renders, not the sensor.
    graphql.stop_sensor(ui, "spec_inbox_sensor")
    ui.start_daemon()

    run_id = graphql.launch_range_run(ui, PRODUCTS[0], PRODUCTS[-1])
    assert graphql.wait_for_run(ui, run_id) == "FAILURE"

    manifests = sorted(s.key for s in objects.list("manifests/"))
    assert manifests == [f"manifests/{p}.json" for p in GOOD]
    sent = notifications(deployment, ui, request, expect=len(PRODUCTS))
    rendered = [n["product_id"] for n in sent if n["event"] == "product_rendered"]
    assert sorted(rendered) == GOOD
    failed = {n["product_id"]: n for n in sent if n["event"] == "render_failed"}
    assert sorted(failed) == sorted(BAD)
    for product_id, kind in BAD.items():
        _, reason = drops.BAD_PHOTOS[kind]
        assert failed[product_id]["run_id"] == run_id
        assert list(failed[product_id]["problems"]) == [drops.photo_key(product_id)]
        assert reason in failed[product_id]["reason"]

    # In the instance, as the UI queries it: 97 materialised, the three failed.
    for asset in ("rendered_variants", "product_manifest"):
        statuses = graphql.partition_statuses(ui, asset)
        assert statuses["failed"] == sorted(BAD)
        assert statuses["materialized"] == GOOD
        assert graphql.partition_stats(ui, asset) == {
            "numMaterialized": len(GOOD),
            "numFailed": len(BAD),
            "numPartitions": len(PRODUCTS),
        }
        reasons = graphql.failure_reasons(ui, asset, sorted(BAD))
        assert sorted(reasons) == sorted(BAD)
        for product_id, kind in BAD.items():
            assert reasons[product_id].startswith(f"{drops.photo_key(product_id)}: ")
            assert drops.BAD_PHOTOS[kind][1] in reasons[product_id]
    checks = graphql.check_statuses(ui, "product_manifest")
    for name, partitions in checks.items():
        assert partitions["succeeded"] == GOOD, name
        assert partitions["executionFailed"] == sorted(BAD), name

    if deployment == "local":
        show_a_failed_product(ui, browser, "p-00017")

    # The photos fixed, a backfill of the "Failed" subset renders those three alone.
    for product_id in BAD:
        drops.store_photo(objects, product_id, PRODUCTS.index(product_id))
    backfill_id = graphql.launch_backfill(ui, sorted(BAD))
    backfill = graphql.wait_for_backfill(ui, backfill_id)
    assert sorted(backfill["partitionNames"]) == sorted(BAD)
    assert {run["status"] for run in backfill["runs"]} == {"SUCCESS"}
    for asset in ("rendered_variants", "product_manifest"):
        statuses = graphql.partition_statuses(ui, asset)
        assert statuses["materialized"] == PRODUCTS
        assert statuses["failed"] == statuses["unmaterialized"] == []
    again = notifications(deployment, ui, request, expect=len(BAD), after=sent)
    assert sorted(n["product_id"] for n in again) == sorted(BAD)
    assert {n["event"] for n in again} == {"product_rendered"}


def show_a_failed_product(ui, browser, product_id: str) -> None:
    """The Partitions view counts the product failed; its reason is one click away from the
    partition (its historical events: the observation the run recorded), not in a run log."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)
    try:
        open_page(page, f"{ui.url}/assets/rendered_variants?view=partitions")
        page.get_by_text("Failed (3)").wait_for()
        page.get_by_text(product_id, exact=True).first.click()
        page.get_by_text("failed, and did not materialize this asset").wait_for()
        page.get_by_text("View all historical events").click()
        page.get_by_role("dialog").get_by_text(product_id, exact=True).click()
        reason = f"{drops.photo_key(product_id)}: cannot be decoded"
        page.get_by_role("dialog").get_by_text(reason).first.wait_for()
        page.screenshot(path=screenshots() / "failed-partition.png")
    finally:
        page.close()


def notifications(deployment, ui, request, expect: int, after=()) -> list[dict]:
    """The notifications published since `after`."""
    if deployment == "local":
        path = Path(ui.data_dir) / "notifications.jsonl"
        every = [json.loads(line) for line in path.read_text().splitlines()]
        return every[len(after) :]
    return request.getfixturevalue("aws").notifications(expect=expect)
