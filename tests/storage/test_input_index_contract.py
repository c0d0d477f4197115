"""The input index contract, for every deployment: who uses an uploaded template or photo (and
with which of its versions each was requested), and which version's change was last acted on."""

from renderfarm_dagster.keys import template_key

PHOTO = "assets/trail/red.jpg"
TEMPLATE = template_key("lookbook")
A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_users_of_an_input_in_id_order_and_by_pages(input_index):
    for product_id in ["shoe-3", "shoe-1", "shoe-2"]:
        input_index.record(product_id, {PHOTO: A, TEMPLATE: B})
    input_index.record("bag", {TEMPLATE: C})
    assert input_index.users(PHOTO) == [("shoe-1", A), ("shoe-2", A), ("shoe-3", A)]
    assert input_index.users(TEMPLATE, limit=2) == [("bag", C), ("shoe-1", B)]
    assert input_index.users(TEMPLATE, after="shoe-1", limit=2) == [("shoe-2", B), ("shoe-3", B)]
    assert input_index.users(TEMPLATE, after="shoe-3") == []
    assert input_index.users("assets/unknown.png") == []


def test_recording_replaces_a_products_inputs(input_index):
    input_index.record("shoe", {PHOTO: A, TEMPLATE: B})
    # A photo not uploaded yet is recorded with an empty sha256.
    input_index.record("shoe", {"assets/trail/blue.jpg": "", TEMPLATE: C})
    assert input_index.users(PHOTO) == []
    assert input_index.users("assets/trail/blue.jpg") == [("shoe", "")]
    assert input_index.users(TEMPLATE) == [("shoe", C)]
    input_index.record("shoe", {})
    assert input_index.users(TEMPLATE) == []


def test_seen_versions(input_index):
    assert input_index.seen([PHOTO, TEMPLATE]) == {}
    input_index.see({PHOTO: A})
    input_index.see({PHOTO: B, TEMPLATE: C})
    assert input_index.seen([PHOTO, TEMPLATE, "assets/other.png"]) == {PHOTO: B, TEMPLATE: C}


def test_many_products_and_inputs(input_index):
    # More than one DynamoDB batch (25 writes, 100 reads) and query page.
    photos = [f"assets/p/{index:03}.png" for index in range(130)]
    input_index.see({photo: f"{index:064}" for index, photo in enumerate(photos)})
    assert len(input_index.seen(photos)) == 130
    input_index.record("big", dict.fromkeys(photos, A))
    for index in range(30):
        input_index.record(f"user-{index:02}", {photos[0]: B})
    assert input_index.users(photos[0]) == [("big", A)] + [(f"user-{i:02}", B) for i in range(30)]
    assert input_index.users(photos[129]) == [("big", A)]


def test_a_products_inputs_are_read_back(input_index):
    assert input_index.inputs_of("shoe") == {}
    input_index.record("shoe", {PHOTO: A, TEMPLATE: ""})
    input_index.record("bag", {PHOTO: B})
    assert input_index.inputs_of("shoe") == {PHOTO: A, TEMPLATE: ""}
    input_index.record("shoe", {TEMPLATE: C})
    assert input_index.inputs_of("shoe") == {TEMPLATE: C}
    input_index.record("shoe", {})
    assert input_index.inputs_of("shoe") == {}
    assert input_index.inputs_of("bag") == {PHOTO: B}


def test_unseen_keys_are_forgotten(input_index):
    input_index.see({PHOTO: A, TEMPLATE: B})
    input_index.unsee([PHOTO, "assets/never-seen.png"])
    assert input_index.seen([PHOTO, TEMPLATE]) == {TEMPLATE: B}
