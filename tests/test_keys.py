import pytest

from renderfarm_dagster import keys


def test_layout():
    assert keys.spec_key("p1") == "specs/p1.json"
    assert keys.output_key("p1", "v1", "hero", "png") == "renders/p1/v1/hero.png"
    assert keys.manifest_key("p1") == "manifests/p1.json"
    assert keys.preview_key("p1") == "previews/p1.jpg"
    assert keys.rejected_key("specs/p1.json") == "rejected/p1.json"
    assert keys.rejected_report_key("specs/p1.json") == "rejected/p1.json.error.json"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "renders/../secrets",
        "renders//x.png",
        "Renders/x.png",
        "a/b c.png",
        "specs\\x.json",
        "specs/.hidden",
        "x" * 2000,
    ],
)
def test_invalid_keys_are_refused(key):
    with pytest.raises(keys.InvalidKeyError):
        keys.validate_key(key)


@pytest.mark.parametrize("key", ["/abs", "a/../b", "a//b", "a\\b", "a/\x00b", "./a", "a/."])
def test_unsafe_foreign_keys_are_refused(key):
    with pytest.raises(keys.InvalidKeyError):
        keys.validate_foreign_key(key)


def test_ids_are_checked_when_building_keys():
    with pytest.raises(keys.InvalidKeyError):
        keys.output_key("p1", "../v1", "hero", "png")


def test_uploads_with_odd_names_get_distinct_safe_rejected_names():
    first = keys.rejected_key("specs/My Spec.json")
    second = keys.rejected_key("specs/my-spec.json.bak")
    assert first.startswith("rejected/my-spec-") and first.endswith(".json")
    assert first != second
    assert keys.product_id_from_spec_key("specs/My Spec.json") is None
    assert keys.product_id_from_spec_key("specs/nested/p1.json") is None
    assert keys.product_id_from_spec_key("specs/p1.json") == "p1"
