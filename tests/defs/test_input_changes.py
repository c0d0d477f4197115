"""Uploaded templates and photos through the spec sensor: a bad template is rejected on arrival,
and a changed template or photo requests exactly the products that use it, once."""

import json
from dataclasses import replace

import pytest

from renderfarm_dagster.catalog.spec_decisions import SpecSensorCursor
from renderfarm_dagster.defs import spec_sensor, tags
from renderfarm_dagster.defs.spec_sensor import spec_inbox_sensor
from tests.conftest import EXAMPLES
from tests.daemon import SensorDriver, partitions_of
from tests.defs.test_spec_sensor import notification, skip_sweeps

LOOKBOOK = (EXAMPLES / "templates" / "lookbook.svg").read_bytes()
JACKET_PHOTO = (EXAMPLES / "assets" / "summit-jacket" / "studio.jpg").read_bytes()
SHOE_PHOTO = (EXAMPLES / "assets" / "trail-runner-2" / "red.png").read_bytes()


@pytest.fixture
def driver(instance, storage, messaging):
    return SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})


def lookbook_spec(product_id: str, photo: str) -> bytes:
    return json.dumps(
        {
            "spec_version": 2,
            "product_id": product_id,
            "template": "lookbook",
            "layers": {"title": {"text": product_id}, "photo": {"image": photo}},
            "variants": [{"variant_id": "one"}, {"variant_id": "two"}],
            "outputs": [{"name": "hero", "width": 200, "height": 250, "format": "png"}],
        }
    ).encode()


@pytest.fixture
def catalog(storage):
    """Three products on the uploaded lookbook template: two show the jacket photo."""
    objects = storage.objects()
    objects.put("templates/lookbook.svg", LOOKBOOK, "image/svg+xml")
    objects.put("assets/jacket.jpg", JACKET_PHOTO, "image/jpeg")
    objects.put("assets/shoe.png", SHOE_PHOTO, "image/png")
    products = [("jacket-a", "jacket.jpg"), ("jacket-b", "jacket.jpg"), ("shoe", "shoe.png")]
    for product_id, photo in products:
        objects.put(
            f"specs/{product_id}.json",
            lookbook_spec(product_id, f"assets/{photo}"),
            "application/json",
        )
    return objects


def partitions(result, driver):
    """The products a tick's result requested, sorted."""
    return sorted(
        product
        for request in result.run_requests
        for product in partitions_of(request, driver.instance)
    )


def test_a_changed_photo_requests_exactly_the_products_showing_it_once(driver, catalog):
    first = driver.tick()
    assert partitions(first, driver) == ["jacket-a", "jacket-b", "shoe"]
    (batch,) = first.run_requests  # one run for the three new products
    assert batch.tags[tags.REASON] == (
        "3 specs are new or changed (specs/jacket-a.json to specs/shoe.json)"
    )
    assert driver.tick().run_requests == []

    catalog.put("assets/jacket.jpg", JACKET_PHOTO + b"\0", "image/jpeg")
    changed = driver.tick()
    assert partitions(changed, driver) == ["jacket-a", "jacket-b"]
    (request,) = changed.run_requests
    assert request.tags[tags.CHANGED_INPUT] == "assets/jacket.jpg"
    assert request.tags[tags.REASON].startswith("assets/jacket.jpg changed (sha256 ")
    assert request.run_key.startswith("assets/jacket.jpg@")
    # Acted on: later sweeps, and the same bytes uploaded again, request nothing.
    assert driver.tick().run_requests == []
    catalog.put("assets/jacket.jpg", JACKET_PHOTO + b"\0", "image/jpeg")
    assert driver.tick().run_requests == []
    assert driver.launched_partitions() == ["jacket-a", "jacket-a", "jacket-b", "jacket-b", "shoe"]


class CountingPhotoReads:
    """An object store that counts reads and HEADs of photos."""

    def __init__(self, inner):
        self._inner = inner
        self.looked_at: list[str] = []

    def get(self, key):
        self._count(key)
        return self._inner.get(key)

    def head(self, key):
        self._count(key)
        return self._inner.head(key)

    def _count(self, key):
        if key.startswith("assets/"):
            self.looked_at.append(key)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_idle_sweeps_look_at_no_unchanged_photo(instance, storage, messaging, catalog, monkeypatch):
    counting = CountingPhotoReads(catalog)
    monkeypatch.setattr(type(storage), "objects", lambda self: counting)
    driver = SensorDriver(spec_inbox_sensor, instance, {"storage": storage, "messaging": messaging})
    driver.tick()
    counting.looked_at.clear()
    # The local deployment sweeps assets/ on every tick: each sweep lists, and reads nothing.
    for _ in range(3):
        assert driver.tick().run_requests == []
    assert counting.looked_at == []
    # Changed in place: the next sweep looks at it alone and requests its products.
    catalog.put("assets/shoe.png", SHOE_PHOTO + b"\0", "image/png")
    assert partitions(driver.tick(), driver) == ["shoe"]
    assert counting.looked_at == ["assets/shoe.png"]
    counting.looked_at.clear()
    assert driver.tick().run_requests == []
    assert counting.looked_at == []


def test_a_changed_template_requests_every_product_using_it(driver, catalog):
    driver.tick()
    catalog.put("templates/lookbook.svg", LOOKBOOK.replace(b"#2a9d8f", b"#e76f51"), "image/svg")
    assert partitions(driver.tick(), driver) == ["jacket-a", "jacket-b", "shoe"]


def test_a_notification_of_a_changed_photo_is_acted_on_without_a_sweep(driver, catalog, messaging):
    driver.tick()
    skip_sweeps(driver)
    catalog.put("assets/shoe.png", SHOE_PHOTO + b"\0", "image/png")
    queue = messaging.spec_queue()
    # At least once: the same notification twice.
    queue.send(notification("assets/shoe.png"))
    queue.send(notification("assets/shoe.png"))
    assert partitions(driver.tick(), driver) == ["shoe"]
    assert driver.tick().run_requests == []


def test_an_invalid_template_upload_is_rejected_with_its_line_and_requests_nothing(driver, catalog):
    driver.tick()
    broken = LOOKBOOK.replace(
        b"<title>lookbook</title>",
        b'<title>lookbook</title>\n<image href="https://example.com/x.png"/>',
    )
    catalog.put("templates/lookbook.svg", broken, "image/svg+xml")
    assert driver.tick().run_requests == []
    assert catalog.head("templates/lookbook.svg") is None
    assert catalog.get("rejected/templates/lookbook.svg") == broken
    report = json.loads(catalog.get("rejected/templates/lookbook.svg.error.json"))
    assert {(p["element"], p["line"]) for p in report["errors"]} == {("image", 8)}
    assert any("refers outside the document" in p["message"] for p in report["errors"])
    # The specs using it wait in the inbox for a good upload, which requests them.
    assert driver.tick().run_requests == []
    assert [s.key for s in catalog.list("specs/")] == [
        "specs/jacket-a.json",
        "specs/jacket-b.json",
        "specs/shoe.json",
    ]
    catalog.put("templates/lookbook.svg", LOOKBOOK + b"\n", "image/svg+xml")
    assert partitions(driver.tick(), driver) == ["jacket-a", "jacket-b", "shoe"]


def test_a_spec_uploaded_before_its_template_is_requested_when_the_template_arrives(
    driver, catalog, messaging
):
    catalog.delete("templates/lookbook.svg")
    assert driver.tick().run_requests == []
    skip_sweeps(driver)  # only the template's notification
    catalog.put("templates/lookbook.svg", LOOKBOOK, "image/svg+xml")
    messaging.spec_queue().send(notification("templates/lookbook.svg"))
    result = driver.tick()
    assert partitions(result, driver) == ["jacket-a", "jacket-b", "shoe"]
    assert sorted(driver.instance.get_dynamic_partitions("products")) == [
        "jacket-a",
        "jacket-b",
        "shoe",
    ]


def test_an_upload_with_a_bundled_templates_name_is_rejected(driver, storage):
    objects = storage.objects()
    objects.put("templates/banner.svg", LOOKBOOK, "image/svg+xml")
    driver.tick()
    report = json.loads(objects.get("rejected/templates/banner.svg.error.json"))
    assert "bundled template's name" in report["errors"][0]["message"]


def test_a_template_used_by_many_products_is_requested_in_bounded_ticks(
    driver, catalog, monkeypatch
):
    for index in range(5):
        catalog.put(
            f"specs/more-{index}.json",
            lookbook_spec(f"more-{index}", "assets/shoe.png"),
            "application/json",
        )
    driver.tick()
    monkeypatch.setattr(spec_sensor, "BUDGET", replace(spec_sensor.BUDGET, input_users=3))
    catalog.put("templates/lookbook.svg", LOOKBOOK + b"\n", "image/svg+xml")
    requested = []
    for _ in range(4):
        result = driver.tick()
        products = partitions(result, driver)
        assert len(products) <= 3
        requested += products
    assert sorted(requested) == sorted(
        ["jacket-a", "jacket-b", "shoe"] + [f"more-{index}" for index in range(5)]
    )
    assert SpecSensorCursor.parse(driver.cursor).changes == []


def test_a_tick_that_dies_after_requesting_loses_and_doubles_nothing(driver, catalog):
    driver.tick()
    catalog.put("assets/jacket.jpg", JACKET_PHOTO + b"\0", "image/jpeg")
    died = driver.kill_mid_tick()  # evaluated, then the daemon died: nothing stored
    assert partitions(died, driver) == ["jacket-a", "jacket-b"]
    again = driver.tick()
    assert partitions(again, driver) == ["jacket-a", "jacket-b"]
    assert driver.tick().run_requests == []
    changed = driver.launched_partitions(**{tags.CHANGED_INPUT: "assets/jacket.jpg"})
    assert changed == ["jacket-a", "jacket-b"]


def test_a_spec_and_its_photo_changed_together_request_one_run(driver, catalog):
    driver.tick()
    catalog.put("assets/shoe.png", SHOE_PHOTO + b"\0", "image/png")
    catalog.put("specs/shoe.json", lookbook_spec("shoe", "assets/shoe.png") + b" ", "x")
    result = driver.tick()
    (request,) = result.run_requests
    assert request.partition_key == "shoe" and tags.CHANGED_INPUT not in request.tags


def test_an_uploaded_template_accepted_with_warnings_is_kept_and_says_why(storage, driver):
    """An upload whose ids are used again (Sketch) is accepted, not rejected: the sensor's
    change finder hands its warnings to the tick, which logs them."""
    from renderfarm_dagster.catalog.inputs import find_changes
    from tests.hostile.test_hostile_templates import SKETCH_EXPORT

    objects = storage.objects()
    objects.put("templates/card.svg", SKETCH_EXPORT, "image/svg+xml")
    changes = find_changes(objects, storage.inputs(), {"templates/card.svg": ""})
    assert changes.rejected == [] and "templates/card.svg" in changes.changed
    (first, second) = changes.warnings["templates/card.svg"]
    assert (first.line, second.line) == (12, 20)
    driver.tick()
    assert objects.head("templates/card.svg") is not None
    assert objects.head("rejected/templates/card.svg") is None


def square_lookbook(drop_layer: bytes = b"") -> bytes:
    """A square layout of the lookbook set (its main layout is 4:5); `drop_layer` removed."""
    square = LOOKBOOK.replace(b'viewBox="0 0 800 1000"', b'viewBox="0 0 800 800"').replace(
        b'height="1000"', b'height="800"'
    )
    return square.replace(drop_layer, b"") if drop_layer else square


def test_a_new_layout_requests_every_product_using_its_set(driver, catalog):
    driver.tick()
    catalog.put("templates/lookbook.square.svg", square_lookbook(), "image/svg+xml")
    changed = driver.tick()
    assert partitions(changed, driver) == ["jacket-a", "jacket-b", "shoe"]
    (request,) = changed.run_requests
    assert request.tags[tags.CHANGED_INPUT] == "templates/lookbook.square.svg"
    assert driver.tick().run_requests == []


def test_a_layout_whose_layers_differ_is_rejected_naming_the_layer(driver, catalog):
    driver.tick()
    swatch = next(line for line in LOOKBOOK.splitlines() if b'id="swatch"' in line)
    catalog.put("templates/lookbook.square.svg", square_lookbook(swatch), "image/svg+xml")
    assert driver.tick().run_requests == []
    assert catalog.head("templates/lookbook.square.svg") is None
    report = json.loads(catalog.get("rejected/templates/lookbook.square.svg.error.json"))
    assert [p["message"] for p in report["errors"]] == [
        'layout "square" has no layer "swatch" (a color layer in the main layout): every '
        "layout of a set has the same layers"
    ]
