"""Rendering a product into storage, and resuming after an interruption."""

from contextlib import closing

import pytest

from renderfarm_dagster.catalog import rendering
from renderfarm_dagster.catalog.pool import QUEUED_PER_WORKER, RenderPool
from renderfarm_dagster.catalog.product_inputs import load_inputs, plan
from renderfarm_dagster.catalog.rendering import render_product
from renderfarm_dagster.spec import parse_spec
from tests.conftest import spec_bytes


@pytest.fixture
def stores(storage):
    return storage.objects(), storage.checkpoints()


def spec_of(doc):
    return parse_spec(spec_bytes(doc), "test").spec


def test_render_product_stores_and_checkpoints_every_output(spec_doc, stores):
    objects, checkpoints = stores
    with RenderPool(workers=1) as pool:
        report = render_product(spec_of(spec_doc), objects, checkpoints, pool, "run-1")
    assert (report.rendered, report.skipped, report.outputs) == (9, 0, 9)
    recorded = checkpoints.read("test-shoe")
    assert len(recorded) == 9
    for checkpoint in recorded.values():
        assert objects.head(checkpoint.key).sha256 == checkpoint.sha256
    assert objects.head("previews/test-shoe.jpg") is not None


def test_second_run_skips_everything(spec_doc, stores):
    objects, checkpoints = stores
    spec = spec_of(spec_doc)
    with RenderPool(workers=1) as pool:
        render_product(spec, objects, checkpoints, pool, "run-1")
        again = render_product(spec, objects, checkpoints, pool, "run-2")
    assert (again.rendered, again.skipped) == (0, 9)


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_with_only_the_missing_variants(spec_doc, stores, monkeypatch):
    objects, checkpoints = stores
    spec = spec_of(spec_doc)
    real_record = checkpoints.record
    landed = []

    def record_then_die(batch):
        real_record(batch)
        landed.append(batch)
        if len(landed) == 2:
            raise Interrupted("spot capacity reclaimed")

    monkeypatch.setattr(checkpoints, "record", record_then_die)
    with RenderPool(workers=1) as pool, pytest.raises(Interrupted):
        render_product(spec, objects, checkpoints, pool, "run-1")
    monkeypatch.undo()
    with RenderPool(workers=1) as pool:
        resumed = render_product(spec, objects, checkpoints, pool, "run-2")
    assert (resumed.rendered, resumed.skipped) == (3, 6)


def test_checkpoint_without_its_object_is_rendered_again(spec_doc, stores):
    objects, checkpoints = stores
    spec = spec_of(spec_doc)
    with RenderPool(workers=1) as pool:
        render_product(spec, objects, checkpoints, pool, "run-1")
    objects.delete("renders/test-shoe/blue/listing.webp")
    objects.put("renders/test-shoe/red/thumb.jpg", b"tampered", "image/jpeg")
    todo, done = plan(load_inputs(spec, objects), objects, checkpoints)
    assert todo == {"blue": ("listing",), "red": ("thumb",)}
    assert len(done) == 7


def test_changing_the_spec_invalidates_only_affected_checkpoints(spec_doc, stores):
    objects, checkpoints = stores
    with RenderPool(workers=1) as pool:
        render_product(spec_of(spec_doc), objects, checkpoints, pool, "run-1")
    spec_doc["variants"][1]["label"] = "Blue, relabelled"
    spec_doc["outputs"][2]["quality"] = 60
    todo, done = plan(load_inputs(spec_of(spec_doc), objects), objects, checkpoints)
    assert todo == {"red": ("thumb",), "blue": ("hero", "listing", "thumb"), "green": ("thumb",)}
    assert len(done) == 4


def test_pool_renders_in_parallel_with_the_same_results(spec_doc, stores):
    objects, checkpoints = stores
    with RenderPool(workers=2) as pool:
        report = render_product(spec_of(spec_doc), objects, checkpoints, pool, "run-1")
    assert report.rendered == 9
    assert rendering.CONTACT_SHEET_MAX_VARIANTS >= 3


def test_an_interruption_stores_the_variants_already_being_drawn(spec_doc, stores, monkeypatch):
    # 12 variants over 2 workers: up to 6 are in flight when the first one is being stored.
    spec_doc["variants"] = [
        {
            "variant_id": f"v{i:02d}",
            "label": f"Variant {i}",
            "colors": spec_doc["variants"][0]["colors"],
        }
        for i in range(12)
    ]
    objects, checkpoints = stores
    spec = spec_of(spec_doc)
    real_record = checkpoints.record
    calls = []

    def interrupt_after_the_first_variant(batch):
        real_record(batch)
        calls.append(batch)
        if len(calls) == 1:
            raise KeyboardInterrupt  # what SIGTERM becomes inside a run

    monkeypatch.setattr(checkpoints, "record", interrupt_after_the_first_variant)
    with RenderPool(workers=2) as pool, pytest.raises(KeyboardInterrupt):
        render_product(spec, objects, checkpoints, pool, "run-1")
    monkeypatch.undo()
    stored = checkpoints.read("test-shoe")
    stored_variants = {variant_id for variant_id, _ in stored}
    # The first variant, plus the ones the workers had started: none of them is lost.
    assert 2 <= len(stored_variants) <= 1 + 2 * QUEUED_PER_WORKER
    assert len(stored) == 3 * len(stored_variants)
    with RenderPool(workers=1) as pool:
        resumed = render_product(spec, objects, checkpoints, pool, "run-2")
    assert resumed.skipped == len(stored)
    assert resumed.rendered == 3 * (12 - len(stored_variants))


def test_a_failure_is_raised_without_storing_more(spec_doc, stores, monkeypatch):
    objects, checkpoints = stores

    def storage_down(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(objects, "put", storage_down)
    with RenderPool(workers=2) as pool, pytest.raises(OSError, match="disk full"):
        render_product(spec_of(spec_doc), objects, checkpoints, pool, "run-1")
    assert checkpoints.read("test-shoe") == {}


def test_progress_is_logged_by_time_not_by_variant(spec_doc, stores, monkeypatch):
    monkeypatch.setattr(rendering, "PROGRESS_INTERVAL_S", 0.0)
    objects, checkpoints = stores
    lines = []
    with RenderPool(workers=1) as pool:
        render_product(spec_of(spec_doc), objects, checkpoints, pool, "run-1", log=lines.append)
    # Every variant but the last (the caller reports the end).
    assert lines == ["test-shoe: 1/3 variants rendered", "test-shoe: 2/3 variants rendered"]
    lines.clear()
    monkeypatch.setattr(rendering, "PROGRESS_INTERVAL_S", 3600.0)
    objects.delete("renders/test-shoe/red/hero.png")
    with RenderPool(workers=1) as pool:
        render_product(spec_of(spec_doc), objects, checkpoints, pool, "run-2", log=lines.append)
    assert lines == ["test-shoe: 8 outputs already rendered, 1 variants to go"]


def products_of(spec_doc, product_ids, variants=3):
    colors = spec_doc["variants"][0]["colors"]
    spec_doc["variants"] = [
        {"variant_id": f"v{i:02d}", "label": f"Variant {i}", "colors": colors}
        for i in range(variants)
    ]
    return [spec_of({**spec_doc, "product_id": product_id}) for product_id in product_ids]


def test_products_stream_through_one_pool_and_report_as_each_is_stored(
    spec_doc, stores, monkeypatch
):
    objects, checkpoints = stores
    specs = products_of(spec_doc, ["p-a", "p-b", "p-c"])
    with RenderPool(workers=1) as pool:
        render_product(specs[1], objects, checkpoints, pool, "run-0")  # p-b is already done
    happened = []
    real_plan = rendering.plan

    def recording_plan(inputs, *args):
        happened.append(f"plan {inputs.spec.product_id}")
        return real_plan(inputs, *args)

    monkeypatch.setattr(rendering, "plan", recording_plan)
    with RenderPool(workers=2) as pool:
        for report in rendering.render_products(specs, objects, checkpoints, pool, "run-1"):
            happened.append(f"report {report.product_id}")
            # Reported only once every output and the contact sheet are stored.
            assert len(checkpoints.read(report.product_id)) == 9
            assert objects.head(report.preview_key) is not None
            assert report.rendered + report.skipped == 9
    # The next products are planned and queued before the first one is finished: the workers
    # do not wait at product boundaries.
    assert happened.index("plan p-c") < happened.index("report p-a")
    assert sorted(h for h in happened if h.startswith("report")) == [
        "report p-a",
        "report p-b",
        "report p-c",
    ]


def test_a_caller_that_stops_early_keeps_the_variants_already_being_drawn(spec_doc, stores):
    objects, checkpoints = stores
    specs = products_of(spec_doc, ["p-a"], variants=4) + products_of(spec_doc, ["p-b"], variants=20)
    with (
        RenderPool(workers=2) as pool,
        closing(rendering.render_products(specs, objects, checkpoints, pool, "run-1")) as reports,
    ):
        first = next(reports)
        # p-b's variants that finished before p-a's last one are stored already.
        before_closing = set(checkpoints.read("p-b"))
    assert first.product_id == "p-a" and first.rendered == 12
    # Closing stored the variants the workers were still drawing: the pool had refilled its
    # queue from p-b's 20 before handing over p-a's last variant.
    stored = checkpoints.read("p-b")
    assert len(stored) > len(before_closing)
    started = {variant_id for variant_id, _ in stored}
    assert len(stored) == 3 * len(started)
    for checkpoint in stored.values():
        assert objects.head(checkpoint.key).sha256 == checkpoint.sha256
    with RenderPool(workers=1) as pool:
        resumed = render_product(specs[1], objects, checkpoints, pool, "run-2")
    assert resumed.skipped == 3 * len(started)
    assert resumed.rendered == 3 * (20 - len(started))
