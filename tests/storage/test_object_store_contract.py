"""The contract every ObjectStore implementation keeps."""

import hashlib
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from renderfarm_dagster.keys import InvalidKeyError
from renderfarm_dagster.storage import ObjectNotFoundError


def test_put_get_head_round_trip(object_store):
    info = object_store.put("renders/p1/v1/hero.png", b"pixels", "image/png")
    assert info.size == 6
    assert info.sha256 == hashlib.sha256(b"pixels").hexdigest()
    assert object_store.get("renders/p1/v1/hero.png") == b"pixels"
    assert object_store.head("renders/p1/v1/hero.png") == info


def test_put_replaces_an_existing_object(object_store):
    object_store.put("manifests/p1.json", b"old", "application/json")
    object_store.put("manifests/p1.json", b"new", "application/json")
    assert object_store.get("manifests/p1.json") == b"new"


def test_missing_objects(object_store):
    assert object_store.head("specs/none.json") is None
    with pytest.raises(ObjectNotFoundError):
        object_store.get("specs/none.json")
    object_store.delete("specs/none.json")  # deleting nothing is fine


def test_delete(object_store):
    object_store.put("specs/p1.json", b"{}", "application/json")
    object_store.delete("specs/p1.json")
    assert object_store.head("specs/p1.json") is None


def test_list_is_ordered_filtered_by_prefix_and_resumes_after_a_key(object_store):
    for key in [
        "specs/b.json",
        "specs/a.json",
        "specs/c.json",
        "manifests/a.json",
        "specsx/a.json",
    ]:
        object_store.put(key, key.encode(), "application/json")
    assert [s.key for s in object_store.list("specs/")] == [
        "specs/a.json",
        "specs/b.json",
        "specs/c.json",
    ]
    assert [s.key for s in object_store.list("specs/", start_after="specs/a.json")] == [
        "specs/b.json",
        "specs/c.json",
    ]
    # A start-after key that no longer exists still positions the listing.
    assert [s.key for s in object_store.list("specs/", start_after="specs/bb.json")] == [
        "specs/c.json"
    ]
    assert [s.size for s in object_store.list("specs/c")] == [len(b"specs/c.json")]
    assert list(object_store.list("nothing/")) == []


def test_list_descends_into_nested_keys(object_store):
    object_store.put("renders/p1/v1/hero.png", b"1", "image/png")
    object_store.put("renders/p1/v2/hero.png", b"2", "image/png")
    object_store.put("renders/p2/v1/hero.png", b"3", "image/png")
    assert [s.key for s in object_store.list("renders/p1/")] == [
        "renders/p1/v1/hero.png",
        "renders/p1/v2/hero.png",
    ]


def test_listing_versions_tell_a_replaced_object_from_an_unchanged_one(object_store):
    def versions():
        return {s.key: s.version for s in object_store.list("specs/")}

    object_store.put("specs/a.json", b"one", "application/json")
    object_store.put("specs/b.json", b"two", "application/json")
    first = versions()
    assert versions() == first  # listing again, nothing changed
    # Same size, other bytes: the version must still change.
    object_store.put("specs/a.json", b"uno", "application/json")
    second = versions()
    assert second["specs/a.json"] != first["specs/a.json"]
    assert second["specs/b.json"] == first["specs/b.json"]


def test_head_reports_the_listing_version_of_the_bytes_it_hashed(object_store):
    object_store.put("assets/a.jpg", b"one", "image/jpeg")
    head = object_store.head("assets/a.jpg")
    (listed,) = object_store.list("assets/")
    assert head.version == listed.version and head.sha256 == hashlib.sha256(b"one").hexdigest()
    object_store.put("assets/a.jpg", b"uno", "image/jpeg")
    replaced = object_store.head("assets/a.jpg")
    (relisted,) = object_store.list("assets/")
    assert replaced.version == relisted.version != head.version


def test_a_listing_sees_keys_added_and_removed_between_two_listings(object_store):
    names = [f"specs/p{index:03d}.json" for index in range(0, 40, 2)]
    for key in names:
        object_store.put(key, b"{}", "application/json")
    assert [s.key for s in object_store.list("specs/")] == names
    object_store.put("specs/p005.json", b"{}", "application/json")
    object_store.delete("specs/p010.json")
    expected = sorted({*names, "specs/p005.json"} - {"specs/p010.json"})
    assert [s.key for s in object_store.list("specs/")] == expected
    assert [s.key for s in object_store.list("specs/", "specs/p004.json")][:2] == [
        "specs/p005.json",
        "specs/p006.json",
    ]


@pytest.mark.parametrize(
    "key", ["../escape.json", "/etc/passwd", "specs/../../x", "Specs/UPPER.json", "a b/c.json"]
)
def test_put_refuses_keys_outside_the_layout(object_store, key):
    with pytest.raises(InvalidKeyError):
        object_store.put(key, b"x", "application/json")


@pytest.mark.parametrize("key", ["../escape.json", "/etc/passwd", "specs/../../x"])
def test_reads_refuse_keys_that_escape(object_store, key):
    with pytest.raises(InvalidKeyError):
        object_store.get(key)
    with pytest.raises(InvalidKeyError):
        object_store.delete(key)


def test_a_link_is_an_address_a_person_opens_and_names_the_object(object_store):
    key = "previews/shoe-1.jpg"
    object_store.put(key, b"jpeg", "image/jpeg")
    link = urlparse(object_store.link(key))
    if link.scheme == "file":  # local: the object's own file
        assert Path(unquote(link.path)).read_bytes() == b"jpeg"
    else:  # aws: the object's page in the S3 console, its bucket and key in the address
        assert (link.scheme, link.netloc) == ("https", "console.aws.amazon.com")
        query = parse_qs(link.query)
        assert query["prefix"] == [key] and query["region"][0]
        assert link.path.startswith("/s3/object/")
    with pytest.raises(InvalidKeyError):
        object_store.link("../outside.jpg")
