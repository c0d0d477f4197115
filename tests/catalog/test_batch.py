"""A run's products carried to their own outcomes: one product's failure never holds back
another, each outcome is announced once per request."""

import json

import pytest

from renderfarm_dagster.catalog.batch import ProductBatch, Request, Stages
from renderfarm_dagster.catalog.inbox import load_spec, submit_spec
from renderfarm_dagster.catalog.pool import RenderPool
from renderfarm_dagster.catalog.verify import OUTPUTS_ARE_VALID_IMAGES, OUTPUTS_MATCH_MANIFEST
from tests.conftest import EXAMPLES, spec_bytes

IDS = ["p-a", "p-b", "p-c"]
FIRST_RUN = Request("run-1", "run-1")


@pytest.fixture
def catalog(storage, messaging, spec_doc):
    objects = storage.objects()
    for product_id in IDS:
        submit_spec(objects, spec_bytes({**spec_doc, "product_id": product_id}), product_id)
    return storage, messaging


def run(catalog, ids=IDS, request=FIRST_RUN, stages=None):
    storage, messaging = catalog
    with (
        RenderPool(workers=1) as pool,
        ProductBatch(
            ids,
            storage.objects(),
            storage.checkpoints(),
            messaging.notifier(),
            pool,
            request,
            stages or Stages(),
        ) as batch,
    ):
        results = {}
        for result in batch.results():
            results[result.product_id] = result
            batch.announce(result)
    return results, batch


def notifications(storage) -> list[tuple[str, str]]:
    path = f"{storage.data_dir}/notifications.jsonl"
    with open(path) as file:
        return sorted((e["event"], e["product_id"]) for e in map(json.loads, file))


def test_every_product_is_rendered_published_and_checked(catalog):
    results, _ = run(catalog)
    assert sorted(results) == IDS
    for result in results.values():
        assert not result.failed
        assert result.report.rendered == 9
        assert result.published.info.key == f"manifests/{result.product_id}.json"
        assert all(verdict.passed for verdict in result.verdicts.values())
        assert len(result.verdicts) == 3
    assert notifications(catalog[0]) == [("product_rendered", p) for p in IDS]


def test_a_missing_spec_and_a_missing_photo_fail_only_their_products(catalog, spec_doc):
    storage, _ = catalog
    objects = storage.objects()
    objects.delete("specs/p-a.json")
    doc = {
        "spec_version": 2,
        "product_id": "p-b",
        "template": "lookbook",
        "layers": {"title": {"text": "B"}, "photo": {"image": "assets/none.jpg"}},
        "variants": [{"variant_id": "one"}],
        "outputs": [{"name": "hero", "width": 100, "height": 125, "format": "png"}],
    }
    objects.put(
        "templates/lookbook.svg",
        (EXAMPLES / "templates" / "lookbook.svg").read_bytes(),
        "image/svg+xml",
    )
    objects.put("specs/p-b.json", spec_bytes(doc), "application/json")
    results, _ = run(catalog)
    assert results["p-a"].stage == "spec"
    assert results["p-a"].problems == {"specs/p-a.json: $": "no spec stored for this product"}
    assert results["p-b"].stage == "render"
    assert results["p-b"].problems == {"assets/none.jpg": "no photo stored at this key"}
    assert not results["p-c"].failed and results["p-c"].published
    assert notifications(storage) == [
        ("product_rendered", "p-c"),
        ("render_failed", "p-a"),
        ("render_failed", "p-b"),
    ]


def test_a_manifest_only_run_fails_a_product_not_rendered(catalog):
    results, _ = run(catalog, ids=["p-a"], stages=Stages(render=False, publish=True, checks=()))
    (result,) = results.values()
    assert result.stage == "manifest"
    assert "9 outputs are not rendered for the current spec" in result.reason


def test_checks_alone_find_a_tampered_output(catalog):
    storage, _ = catalog
    run(catalog, ids=["p-a"])
    objects = storage.objects()
    key = "renders/p-a/red/thumb.jpg"
    objects.put(key, objects.get(key) + b"\0", "image/jpeg")
    results, _ = run(
        catalog,
        ids=["p-a"],
        request=Request("run-2", "run-2"),
        stages=Stages(render=False, publish=False),
    )
    (result,) = results.values()
    assert result.stage == "checks" and result.published is None
    # Its sha256 is not the manifest's, and a JPEG does not go on past its end marker.
    assert list(result.problems) == [OUTPUTS_MATCH_MANIFEST, OUTPUTS_ARE_VALID_IMAGES]
    assert result.problems[OUTPUTS_MATCH_MANIFEST].startswith(f"variant red output thumb ({key}):")
    assert "has bytes after its end" in result.problems[OUTPUTS_ARE_VALID_IMAGES]


def test_a_retry_skips_what_its_request_published_and_reports_a_failure_once(catalog):
    storage, _ = catalog
    objects = storage.objects()
    objects.delete("specs/p-c.json")
    first, _ = run(catalog)
    assert first["p-c"].failed
    # The retry of the same request (an interruption): p-a and p-b were published, p-c still
    # has no spec. Nothing is announced again.
    retried, batch = run(catalog, request=Request("run-2", "run-1", attempt=1))
    assert batch.published_before == ["p-a", "p-b"]
    assert list(retried) == ["p-c"]
    assert retried["p-c"].failed and retried["p-c"].announced_before
    assert notifications(storage) == [
        ("product_rendered", "p-a"),
        ("product_rendered", "p-b"),
        ("render_failed", "p-c"),
    ]
    # Its spec arrives before the next retry, which publishes it.
    objects.put("specs/p-c.json", objects.get("specs/p-b.json").replace(b"p-b", b"p-c"), "x")
    assert load_spec(objects, "p-c").spec.product_id == "p-c"
    again, _ = run(catalog, request=Request("run-3", "run-1", attempt=2))
    assert not again["p-c"].failed and not again["p-c"].announced_before
    assert ("product_rendered", "p-c") in notifications(storage)
    # A new request (not a retry) announces its products again.
    run(catalog, ids=["p-a"], request=Request("run-4", "run-4"))
    assert notifications(storage).count(("product_rendered", "p-a")) == 2


def test_an_announcement_repeated_after_a_kill_keeps_its_notification_id(catalog):
    """Killed between publishing a notification and recording it (SIGKILL), a run's retry
    announces the product again: a repeat consumers recognise by its id."""
    storage, messaging = catalog

    class KilledBeforeRecording:
        def __init__(self, checkpoints):
            self._checkpoints = checkpoints

        def __getattr__(self, name):
            return getattr(self._checkpoints, name)

        def record_outcome(self, outcome):
            pass  # the process died here

    with (
        RenderPool(workers=1) as pool,
        ProductBatch(
            ["p-a"],
            storage.objects(),
            KilledBeforeRecording(storage.checkpoints()),
            messaging.notifier(),
            pool,
            FIRST_RUN,
        ) as batch,
    ):
        for result in batch.results():
            batch.announce(result)
    run(catalog, ids=["p-a"], request=Request("run-2", "run-1", attempt=1))
    path = f"{storage.data_dir}/notifications.jsonl"
    with open(path) as file:
        sent = [json.loads(line) for line in file]
    assert [n["run_id"] for n in sent] == ["run-1", "run-2"]
    assert sent[0]["notification_id"] == sent[1]["notification_id"]
    # A new request of the same product is a new announcement.
    run(catalog, ids=["p-a"], request=Request("run-3", "run-3"))
    with open(path) as file:
        third = [json.loads(line) for line in file][-1]
    assert third["notification_id"] != sent[0]["notification_id"]
