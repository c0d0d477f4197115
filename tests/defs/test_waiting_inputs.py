"""Specs wait for their photos, template and brand fonts: through the real sensor, in any order
of arrival, each product is requested once, when its last input is stored, and rendered once.
A deleted spec no longer follows its inputs."""

import json
import random

import dagster as dg
import pytest

from renderfarm_dagster.catalog.spec_marks import SpecMark
from renderfarm_dagster.definitions import build_definitions
from renderfarm_dagster.defs import tags
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from tests.daemon import SensorDriver, partitions_of
from tests.defs.test_brand_fonts import BRANDED
from tests.defs.test_input_changes import JACKET_PHOTO, LOOKBOOK, SHOE_PHOTO, lookbook_spec
from tests.defs.test_spec_sensor import later
from tests.fonts import brand_font


@pytest.fixture
def driver(instance, storage, messaging):
    storage.objects().put("templates/lookbook.svg", LOOKBOOK, "image/svg+xml")
    return SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})


def requested(result, driver) -> list[str]:
    return sorted(p for r in result.run_requests for p in partitions_of(r, driver.instance))


def mark_of(storage, product_id: str) -> SpecMark | None:
    key = f"specs/{product_id}.json"
    return SpecMark.parse(storage.inputs().seen([key]).get(key))


def two_photo_spec(product_id: str, front: str, back: str) -> bytes:
    doc = json.loads(lookbook_spec(product_id, front))
    doc["variants"] = [
        {"variant_id": "front", "layers": {"photo": {"image": front}}},
        {"variant_id": "back", "layers": {"photo": {"image": back}}},
    ]
    del doc["layers"]["photo"]
    return json.dumps(doc).encode()


def test_a_spec_before_its_photo_waits_then_is_requested_once_when_it_arrives(
    driver, storage, capfd
):
    objects = storage.objects()
    objects.put("specs/late.json", lookbook_spec("late", "assets/late.jpg"), "application/json")
    assert driver.tick().run_requests == []
    assert "specs/late.json waits for assets/late.jpg" in capfd.readouterr().err
    mark = mark_of(storage, "late")
    assert mark.waiting_for == ("assets/late.jpg",) and mark.waiting_since > 0
    # Waiting, it is not read again by the sweeps that follow.
    assert driver.tick().run_requests == []
    assert "waits for" not in capfd.readouterr().err
    objects.put("assets/late.jpg", JACKET_PHOTO, "image/jpeg")
    result = driver.tick()
    assert requested(result, driver) == ["late"]
    (request,) = result.run_requests
    assert request.tags[tags.REASON] == "specs/late.json: the inputs it waited for are stored"
    assert not mark_of(storage, "late").waiting
    assert driver.tick().run_requests == []
    assert driver.tick().run_requests == []


def test_a_photo_before_its_spec_is_requested_at_once(driver, storage):
    objects = storage.objects()
    objects.put("assets/early.jpg", JACKET_PHOTO, "image/jpeg")
    assert driver.tick().run_requests == []
    objects.put("specs/early.json", lookbook_spec("early", "assets/early.jpg"), "application/json")
    assert requested(driver.tick(), driver) == ["early"]
    assert driver.tick().run_requests == []


def test_a_spec_waits_for_its_last_missing_photo(driver, storage):
    objects = storage.objects()
    objects.put(
        "specs/pair.json",
        two_photo_spec("pair", "assets/front.jpg", "assets/back.png"),
        "application/json",
    )
    assert driver.tick().run_requests == []
    objects.put("assets/front.jpg", JACKET_PHOTO, "image/jpeg")
    assert driver.tick().run_requests == []
    assert mark_of(storage, "pair").waiting_for == ("assets/back.png",)
    objects.put("assets/back.png", SHOE_PHOTO, "image/png")
    assert requested(driver.tick(), driver) == ["pair"]
    assert driver.tick().run_requests == []


def test_a_spec_that_waited_too_long_is_requested_and_again_when_its_photo_arrives(
    driver, storage, monkeypatch, capfd
):
    objects = storage.objects()
    objects.put("specs/stale.json", lookbook_spec("stale", "assets/stale.jpg"), "application/json")
    assert driver.tick().run_requests == []
    later(monkeypatch, 24 * 3600 + 1)  # RENDERFARM_MAX_WAIT_HOURS: 24 by default
    result = driver.tick()
    assert requested(result, driver) == ["stale"]
    assert "specs/stale.json waited 24.0 h for assets/stale.jpg: requested anyway" in (
        capfd.readouterr().err
    )
    assert driver.tick().run_requests == []
    # Its run reported the photo missing; the photo's arrival requests it again.
    objects.put("assets/stale.jpg", JACKET_PHOTO, "image/jpeg")
    again = driver.tick()
    assert requested(again, driver) == ["stale"]
    assert again.run_requests[0].run_key != result.run_requests[0].run_key
    assert driver.tick().run_requests == []


def test_a_spec_waits_for_a_brand_font_family_no_upload_provides(driver, storage):
    objects = storage.objects()
    objects.put("fonts/acme-sans-regular.ttf", brand_font(), "font/ttf")
    objects.put("templates/lookbook.svg", BRANDED, "image/svg+xml")
    objects.put("assets/jacket.jpg", JACKET_PHOTO, "image/jpeg")
    driver.tick()  # the template is accepted: the font is there
    objects.delete("fonts/acme-sans-regular.ttf")
    objects.put("specs/acme.json", lookbook_spec("acme", "assets/jacket.jpg"), "application/json")
    assert driver.tick().run_requests == []
    assert mark_of(storage, "acme").waiting_for == ("font-family:Acme Sans",)
    objects.put("fonts/acme-sans.ttf", brand_font(), "font/ttf")
    assert requested(driver.tick(), driver) == ["acme"]
    assert driver.tick().run_requests == []


def test_a_deleted_spec_is_no_longer_requested_by_its_photo(driver, storage, capfd):
    objects = storage.objects()
    objects.put("assets/shared.jpg", JACKET_PHOTO, "image/jpeg")
    for product_id in ("kept", "gone"):
        spec = lookbook_spec(product_id, "assets/shared.jpg")
        objects.put(f"specs/{product_id}.json", spec, "application/json")
    assert requested(driver.tick(), driver) == ["gone", "kept"]
    objects.delete("specs/gone.json")
    objects.put("assets/shared.jpg", JACKET_PHOTO + b"\0", "image/jpeg")
    assert requested(driver.tick(), driver) == ["kept"]
    assert "deleted spec(s) no longer requested by changes of their inputs: specs/gone.json" in (
        capfd.readouterr().err
    )
    assert storage.inputs().inputs_of("gone") == {}
    assert mark_of(storage, "gone") is None
    assert driver.tick().run_requests == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_drop_in_any_order_renders_every_product_exactly_once(instance, storage, messaging, seed):
    """Specs and photos of one drop uploaded in a random order across ticks, some photos
    before their specs and some after; every requested run executed as the daemon would."""
    objects = storage.objects()
    objects.put("templates/lookbook.svg", LOOKBOOK, "image/svg+xml")
    driver = SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})
    ids = [f"drop-{index:02}" for index in range(8)]
    uploads = [("spec", p) for p in ids] + [("photo", p) for p in ids]
    rng = random.Random(seed)
    rng.shuffle(uploads)
    job = build_definitions().resolve_job_def("render_catalog")
    runs = []
    while uploads:
        # A few uploads between two ticks (some land in the same tick).
        arrived, uploads = uploads[: rng.randint(1, 4)], uploads
        uploads = uploads[len(arrived) :]
        for kind, product_id in arrived:
            if kind == "spec":
                spec = lookbook_spec(product_id, f"assets/{product_id}.png")
                objects.put(f"specs/{product_id}.json", spec, "application/json")
            else:
                objects.put(f"assets/{product_id}.png", SHOE_PHOTO, "image/png")
        for request in driver.tick().run_requests:
            runs.append(execute(job, instance, request))
    for _ in range(3):
        for request in driver.tick().run_requests:
            runs.append(execute(job, instance, request))
    assert all(run.success for run in runs)
    rendered = [e["product_id"] for e in notifications(storage) if e["event"] == "product_rendered"]
    assert sorted(rendered) == ids
    assert not [e for e in notifications(storage) if e["event"] == "render_failed"]


def execute(job, instance, request: dg.RunRequest):
    run_tags = dict(request.tags)
    if request.partition_key:
        run_tags[tags.PARTITION] = request.partition_key
    return job.execute_in_process(
        instance=instance,
        tags=run_tags,
        run_config={"ops": {"render_products": {"config": {"workers": 1}}}},
        raise_on_error=False,
    )


def notifications(storage) -> list[dict]:
    path = storage.data_dir + "/notifications.jsonl"
    try:
        with open(path) as file:
            return [json.loads(line) for line in file]
    except FileNotFoundError:
        return []
