"""Where the product is in a photo: its subject box, found by libvips.

- A cut-out (a photo with transparency): the box of its opaque pixels (`find_trim` on alpha).
- A studio shot on a plain background (a white sweep): the box of what differs from the
  background, whose colour is read from the photo's border (`find_trim` against it).
- Anything else (a lifestyle shot, a busy backdrop): no box, but the centre of its most
  interesting region (`smartcrop`'s attention strategy) as the point a `cover` crop keeps.

The search runs on a copy reduced to SEARCH_PX on its long side, decoded from the photo's bytes
alone, so the box is a function of the bytes: the manifest reports the box the renderer used
(catalog/manifest.py) without either remembering it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import pyvips
from PIL import Image, ImageChops

from renderfarm_dagster.render.photo import decode_photo

# The long side of the copy searched, at most: boxes to about 1/200 of the photo. A JPEG is
# decoded at the DCT scale that gives at least half of it (1/8 of a 2000 px photo: the cheapest
# decode there is).
SEARCH_PX = 256
# Below this on either side a photo has no subject to find (a 1-pixel placeholder).
MIN_SEARCH_PX = 8
# Alpha at or below this is background in a cut-out: a soft shadow (at most half opaque, as
# photo editors draw them) is not the product.
ALPHA_THRESHOLD = 128
# A studio background: the border's pixels within this of its median colour, on each band...
BACKGROUND_SPREAD = 24
# ...for at least this share of them; and what differs from it by more than BACKGROUND_THRESHOLD
# is the product.
BACKGROUND_SHARE = 0.9
BACKGROUND_THRESHOLD = 32
# A box this close to the whole photo on both sides is no subject: the photo is all product or
# all scene.
WHOLE_PHOTO = 0.97

FoundBy = Literal["alpha", "background", "attention", "none"]


@dataclass(frozen=True)
class Subject:
    """What was found in a photo, in fractions of its upright width and height.

    box: (left, top, right, bottom) of the product (None for attention and none); focus: the
    point a `cover` crop centres on; background: the studio backdrop's RGB, which a subject
    fit extends the photo with (None: transparent); note: why there is no box.
    """

    found_by: FoundBy
    box: tuple[float, float, float, float] | None
    focus: tuple[float, float]
    background: tuple[int, int, int] | None = None
    note: str = ""

    def to_manifest(self) -> dict:
        entry: dict = {"found_by": self.found_by}
        if self.box is not None:
            entry["box"] = [round(value, 4) for value in self.box]
        entry["focus"] = [round(value, 4) for value in self.focus]
        if self.note:
            entry["note"] = self.note
        return entry


def find_subject(data: bytes, key: str) -> Subject:
    """The subject of the photo `data` (stored at `key`); raises PhotoError as decode_photo.
    Found once per photo in a process: the last SUBJECTS_KEPT are kept, by sha256 (not by the
    bytes, which a cache keyed on them would keep alive)."""
    sha256 = hashlib.sha256(data).hexdigest()
    subject = _found.get(sha256)
    if subject is None:
        photo = decode_photo(data, key, (SEARCH_PX // 2, SEARCH_PX // 2))
        photo.thumbnail((SEARCH_PX, SEARCH_PX), Image.Resampling.BOX)
        subject = _found[sha256] = subject_of(photo)
        while len(_found) > SUBJECTS_KEPT:
            _found.popitem(last=False)
    else:
        _found.move_to_end(sha256)
    return subject


SUBJECTS_KEPT = 512
_found: OrderedDict[str, Subject] = OrderedDict()


def subject_of(photo: Image.Image) -> Subject:
    """The subject of an RGBA image (see the module)."""
    width, height = photo.size
    if min(width, height) < MIN_SEARCH_PX:
        return Subject("none", None, (0.5, 0.5), note=f"too small to search ({width}x{height})")
    image = pyvips.Image.new_from_memory(photo.tobytes(), width, height, 4, "uchar")
    lowest, highest = photo.getchannel("A").getextrema()
    if lowest < ALPHA_THRESHOLD:
        if highest <= ALPHA_THRESHOLD:
            return Subject("none", None, (0.5, 0.5), note="the photo is transparent throughout")
        box = image[3].find_trim(threshold=ALPHA_THRESHOLD, background=[0])
        return _boxed("alpha", box, width, height)
    rgb = image[0:3]
    background = _plain_background(photo.convert("RGB"))
    if background is not None:
        box = rgb.find_trim(threshold=BACKGROUND_THRESHOLD, background=list(background))
        if box[2] == 0 or box[3] == 0:
            return Subject(
                "none",
                None,
                (0.5, 0.5),
                background,
                note=f"the photo is its background colour {_hex(background)} throughout",
            )
        subject = _boxed("background", box, width, height, background)
        if subject.found_by == "background":
            return subject
    return _attention(rgb, width, height)


def _boxed(
    found_by: FoundBy,
    box: tuple[int, int, int, int],
    width: int,
    height: int,
    background: tuple[int, int, int] | None = None,
) -> Subject:
    left, top, box_width, box_height = box
    fractions = (
        left / width,
        top / height,
        (left + box_width) / width,
        (top + box_height) / height,
    )
    if box_width == 0 or box_height == 0:
        return Subject("none", None, (0.5, 0.5), background, note="no opaque pixels")
    if box_width >= WHOLE_PHOTO * width and box_height >= WHOLE_PHOTO * height:
        return Subject("none", None, (0.5, 0.5), background, note="the subject fills the photo")
    focus = ((fractions[0] + fractions[2]) / 2, (fractions[1] + fractions[3]) / 2)
    return Subject(found_by, fractions, focus, background)


def _plain_background(rgb: Image.Image) -> tuple[int, int, int] | None:
    """The colour of the photo's border when nearly all of it is one colour, else None.

    Statistics of a few thousand border pixels, from Pillow's histograms (C, no pixel loop);
    a libvips pipeline per statistic cost ten times as much on a copy this small.
    """
    width, height = rgb.size
    strip = max(1, min(width, height) // 64)
    strips = [
        rgb.crop((0, 0, width, strip)),
        rgb.crop((0, height - strip, width, height)),
        rgb.crop((0, 0, strip, height)),
        rgb.crop((width - strip, 0, width, height)),
    ]
    histogram = [sum(counts) for counts in zip(*(part.histogram() for part in strips), strict=True)]
    total = sum(histogram[:256])
    median = tuple(_median(histogram[band * 256 : band * 256 + 256], total) for band in range(3))
    close = 0
    for part in strips:
        difference = ImageChops.difference(part, Image.new("RGB", part.size, median))
        near = difference.point(lambda value: 255 if value <= BACKGROUND_SPREAD else 0)
        red, green, blue = near.split()
        close += ImageChops.darker(ImageChops.darker(red, green), blue).histogram()[255]
    return median if close >= BACKGROUND_SHARE * total else None  # type: ignore[return-value]


def _median(counts: list[int], total: int) -> int:
    """The median value of a band from its 256 histogram counts."""
    seen = 0
    for value, count in enumerate(counts):
        seen += count
        if 2 * seen >= total:
            return value
    return 255


def _attention(rgb: pyvips.Image, width: int, height: int) -> Subject:
    _, found = rgb.smartcrop(
        max(1, width // 2),
        max(1, height // 2),
        interesting="attention",
        attention_x=True,
        attention_y=True,
    )
    point = (found["attention_x"], found["attention_y"])
    if point == (0, 0):
        # What libvips answers when no region stands out (even texture): the centre is safer.
        return Subject("none", None, (0.5, 0.5), note="no region stands out")
    focus = (point[0] / width, point[1] / height)
    return Subject("attention", None, focus, note="no plain background or cut-out")


def _hex(colour: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{value:02x}" for value in colour)
