"""Removing a product (renderfarm remove) on every deployment: everything stored for it goes,
nothing of another product, and its photos stay."""

from renderfarm_dagster.catalog.removal import remove_product, stored_product
from renderfarm_dagster.storage import ProductOutcome
from tests.storage.test_checkpoint_store_contract import checkpoint

PHOTO = "assets/shared/photo.jpg"


def store(objects, checkpoints, index, product_id):
    objects.put(f"specs/{product_id}.json", b"{}", "application/json")
    for variant in ("red", "blue"):
        objects.put(f"renders/{product_id}/{variant}/hero.png", b"png", "image/png")
    objects.put(f"manifests/{product_id}.json", b"{}", "application/json")
    objects.put(f"previews/{product_id}.jpg", b"jpg", "image/jpeg")
    checkpoints.record([checkpoint(v, product_id=product_id) for v in ("red", "blue")])
    checkpoints.record_outcome(ProductOutcome(product_id, "run-1", True, "m", "run-1"))
    index.record(product_id, {PHOTO: "a" * 64})
    index.see({f"specs/{product_id}.json": "mark"})


def test_removing_a_product_leaves_no_trace_of_it_and_touches_nothing_else(storage_resource):
    objects = storage_resource.objects()
    checkpoints, index = storage_resource.checkpoints(), storage_resource.inputs()
    objects.put(PHOTO, b"photo", "image/jpeg")
    for product_id in ("leaving", "leaving-2"):
        store(objects, checkpoints, index, product_id)
    stored = stored_product("leaving", objects, checkpoints, index)
    assert stored.objects == (
        "specs/leaving.json",
        "renders/leaving/blue/hero.png",
        "renders/leaving/red/hero.png",
        "manifests/leaving.json",
        "previews/leaving.jpg",
    )
    assert (stored.checkpoints, stored.inputs) == (2, (PHOTO,))
    remove_product(stored, objects, checkpoints, index)
    assert not stored_product("leaving", objects, checkpoints, index).found
    assert checkpoints.outcomes("run-1", ["leaving", "leaving-2"]).keys() == {"leaving-2"}
    assert index.seen(["specs/leaving.json", "specs/leaving-2.json"]) == {
        "specs/leaving-2.json": "mark"
    }
    assert index.users(PHOTO) == [("leaving-2", "a" * 64)]
    # The other product (whose id starts the same) and the shared photo are all there.
    kept = stored_product("leaving-2", objects, checkpoints, index)
    assert len(kept.objects) == 5 and kept.checkpoints == 2
    assert objects.head(PHOTO) is not None
