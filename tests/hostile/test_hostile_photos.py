"""Photos are untrusted uploads: each bad one is refused with its key and the reason, before or
while decoding, and never decoded past the documented limits."""

import pytest
from PIL import Image

from renderfarm_dagster.render import photo as photos
from renderfarm_dagster.render.photo import PhotoError, decode_photo, inspect_photo
from tests.images import encoded, marked


def bomb() -> bytes:
    # 10,000 x 6,000 one-bit pixels compress to a few kB: 60 MP, over the 50 MP limit.
    return encoded(Image.new("1", (10_000, 6_000)), "PNG")


@pytest.mark.parametrize(
    ("name", "data", "key", "reason"),
    [
        ("decompression bomb", bomb(), "assets/bomb.png", "pixels, over the limit"),
        (
            "JPEG cut in its pixels",
            encoded(marked(), "JPEG")[:1200],
            "assets/cut.jpg",
            "cannot be decoded",
        ),
        (
            "JPEG cut in its header",
            encoded(marked(), "JPEG")[:300],
            "assets/cut.jpg",
            "not a readable JPEG",
        ),
        ("a PNG named .jpg", encoded(marked(), "PNG"), "assets/p.jpg", "is a PNG image"),
        ("not an image", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "assets/p.png", "not a"),
        ("a GIF", encoded(marked(), "GIF"), "assets/p.gif", "extension .gif"),
        (
            "an unreadable ICC profile",
            encoded(marked(), "PNG", icc_profile=b"not a profile"),
            "assets/icc.png",
            "ICC profile cannot be read",
        ),
    ],
)
def test_a_bad_photo_is_refused_with_its_key_and_reason(name, data, key, reason):
    with pytest.raises(PhotoError) as refused:
        decode_photo(data, key)
    assert refused.value.key == key and reason in refused.value.reason, refused.value


def test_an_oversized_photo_file_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(photos, "MAX_PHOTO_BYTES", 1000)
    with pytest.raises(PhotoError, match="over the 1000 byte limit"):
        inspect_photo(encoded(marked(), "PNG") + b"\0" * 1000, "assets/p.png")
