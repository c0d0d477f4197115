"""Product photos: decoded as untrusted input, oriented, colour-managed to sRGB, fitted to a box.

What a photo may be (docs/text-and-photos.md, "Photos"): JPEG, PNG (alpha kept) or WebP, its
type matching its extension, at most MAX_PHOTO_PIXELS pixels. EXIF orientation is applied; an
embedded ICC profile (Display P3, Adobe RGB, a CMYK press profile) is converted to sRGB with
LittleCMS;
CMYK without a profile is converted with Pillow's naive formula; 16-bit sources are reduced to
8 bits per channel.
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from renderfarm_dagster.render.errors import RenderInputError

if TYPE_CHECKING:
    from renderfarm_dagster.render.subject import Subject

MAX_PHOTO_BYTES = 40 * 1024 * 1024
# 50 megapixels: a full-frame camera's largest JPEG, with room; a decompression bomb is refused
# from its header, before any pixel is decoded.
MAX_PHOTO_PIXELS = 50_000_000
PHOTO_EXTENSIONS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# EXIF orientations that swap width and height (rotated by 90 or 270 degrees).
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


class PhotoError(RenderInputError):
    """A photo that cannot be used; names its key and the reason."""


@dataclass(frozen=True)
class PhotoInfo:
    """What a photo's header says, read without decoding pixels."""

    format: str
    width: int  # after EXIF orientation
    height: int


def photo_format(key: str) -> str:
    extension = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    if extension not in PHOTO_EXTENSIONS:
        raise PhotoError(key, f"extension .{extension} is not one of .jpg, .jpeg, .png, .webp")
    return PHOTO_EXTENSIONS[extension]


def inspect_photo(data: bytes, key: str) -> PhotoInfo:
    """Check a photo's type, size and header; raise PhotoError. Decodes no pixels."""
    with _open(data, key) as image:
        width, height = _oriented_size(image)
        return PhotoInfo(image.format or "", width, height)


def decode_photo(data: bytes, key: str, at_least: tuple[int, int] | None = None) -> Image.Image:
    """The photo as RGBA pixels in sRGB, the right way up.

    With `at_least`, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling,
    several times faster) as long as the result still covers `at_least` (width, height after
    orientation): the box it will fill is then resampled from real pixels, never upscaled from a
    reduced copy.
    """
    with _open(data, key) as image:
        if at_least is not None and image.format == "JPEG":
            needed = at_least
            if _orientation(image) in _TRANSPOSING_ORIENTATIONS:
                needed = (at_least[1], at_least[0])
            image.draft(image.mode, needed)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError) as error:
            raise PhotoError(key, f"cannot be decoded: {error}") from None
        image = ImageOps.exif_transpose(image)
        return _to_srgb_rgba(image, key)


def fit_photo(
    image: Image.Image,
    width: int,
    height: int,
    fit: str,
    focal: tuple[float, float] | None,
    subject: Subject | None = None,
    padding: float = 0.0,
    anchor: tuple[float, float] = (0.5, 0.5),
) -> Image.Image:
    """`image` (RGBA) fitted to exactly `width` x `height`.

    cover: fills the box, cropped around the focal point (fractions of the photo's width and
    height; None: the subject's centre or the attention point, `subject.focus`), which stays as
    central as the photo's edges allow. contain: the whole photo, centred, with transparent
    margins. subject: the subject's box scaled to fill the box less `padding` (a share of
    the box's width and height on each side) and aligned in it by `anchor` (0: left or top,
    1: right or bottom); the photo shows around it, extended with its studio background
    colour, or transparent. Without a subject box, subject falls back to contain.
    """
    source_width, source_height = image.size
    if fit == "subject" and subject is not None and subject.box is not None:
        return _fit_subject(image, width, height, subject, padding, anchor)
    if fit in ("contain", "subject"):
        scale = min(width / source_width, height / source_height)
        size = (max(1, round(source_width * scale)), max(1, round(source_height * scale)))
        fitted = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        canvas.paste(fitted, ((width - size[0]) // 2, (height - size[1]) // 2))
        return canvas
    if focal is None:
        focal = subject.focus if subject is not None else (0.5, 0.5)
    scale = max(width / source_width, height / source_height)
    crop_width, crop_height = width / scale, height / scale
    left = _clamp(focal[0] * source_width - crop_width / 2, 0, source_width - crop_width)
    top = _clamp(focal[1] * source_height - crop_height / 2, 0, source_height - crop_height)
    # Resampled straight from the source region: no intermediate crop copy.
    return image.resize(
        (width, height),
        Image.Resampling.LANCZOS,
        box=(left, top, left + crop_width, top + crop_height),
        reducing_gap=3.0,
    )


def _fit_subject(
    image: Image.Image,
    width: int,
    height: int,
    subject: Subject,
    padding: float,
    anchor: tuple[float, float],
) -> Image.Image:
    assert subject.box is not None
    source_width, source_height = image.size
    left, top, right, bottom = (
        subject.box[0] * source_width,
        subject.box[1] * source_height,
        subject.box[2] * source_width,
        subject.box[3] * source_height,
    )
    room_width, room_height = width * (1 - 2 * padding), height * (1 - 2 * padding)
    scale = min(room_width / (right - left), room_height / (bottom - top))
    # Where the subject's top-left corner lands in the box, then where the photo's does.
    subject_x = width * padding + (room_width - (right - left) * scale) * anchor[0]
    subject_y = height * padding + (room_height - (bottom - top) * scale) * anchor[1]
    origin_x, origin_y = subject_x - left * scale, subject_y - top * scale
    # The part of the box the photo covers, and the source region that lands there.
    to_left, to_top = max(0, round(origin_x)), max(0, round(origin_y))
    to_right = min(width, round(origin_x + source_width * scale))
    to_bottom = min(height, round(origin_y + source_height * scale))
    background = (*subject.background, 255) if subject.background else (0, 0, 0, 0)
    canvas = Image.new("RGBA", (width, height), background)
    if to_right > to_left and to_bottom > to_top:
        # Clamped: the rounding of the covered part may reach a fraction past the photo.
        region = (
            _clamp((to_left - origin_x) / scale, 0, source_width),
            _clamp((to_top - origin_y) / scale, 0, source_height),
            _clamp((to_right - origin_x) / scale, 0, source_width),
            _clamp((to_bottom - origin_y) / scale, 0, source_height),
        )
        shown = image.resize(
            (to_right - to_left, to_bottom - to_top),
            Image.Resampling.LANCZOS,
            box=region,
            reducing_gap=3.0,
        )
        canvas.paste(shown, (to_left, to_top))
    return canvas


def png_for_cairo(image: Image.Image) -> bytes:
    """`image` as PNG bytes for cairo to read: stored, not compressed (it is read once)."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


class _open:
    """Image.open with this module's checks, as a context manager that closes the file."""

    def __init__(self, data: bytes, key: str):
        self.key = key
        expected = photo_format(key)
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoError(key, f"{len(data)} bytes, over the {MAX_PHOTO_BYTES} byte limit")
        try:
            with warnings.catch_warnings():
                # Pillow warns, then errors, on its own bomb limit; ours is checked below.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self.image = Image.open(
                    io.BytesIO(data), formats=list(set(PHOTO_EXTENSIONS.values()))
                )
        except Image.DecompressionBombError as error:
            raise PhotoError(key, f"too many pixels: {error}") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise PhotoError(key, f"not a readable JPEG, PNG or WebP image: {error}") from None
        if self.image.format != expected:
            self.image.close()
            raise PhotoError(
                key, f"is a {self.image.format} image, but its extension says {expected}"
            )
        width, height = self.image.size
        if width * height > MAX_PHOTO_PIXELS:
            self.image.close()
            raise PhotoError(
                key,
                f"{width} x {height} pixels, over the limit of {MAX_PHOTO_PIXELS:,} "
                "(a decompression bomb, or a photo to downsize before upload)",
            )

    def __enter__(self) -> Image.Image:
        return self.image

    def __exit__(self, *exc_info) -> None:
        self.image.close()


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except (ValueError, TypeError, SyntaxError, OSError):
        return 1


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    if _orientation(image) in _TRANSPOSING_ORIENTATIONS:
        return height, width
    return width, height


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb_rgba(image: Image.Image, key: str) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: keep the top 8 bits.
        image = image.point(lambda value: value / 256).convert("L")
    profile_bytes = image.info.get("icc_profile")
    if profile_bytes and image.mode in ("RGB", "RGBA", "CMYK", "L", "LA"):
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
        except (OSError, ImageCms.PyCMSError) as error:
            raise PhotoError(key, f"its embedded ICC profile cannot be read: {error}") from None
        alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
        source = image.convert({"RGBA": "RGB", "LA": "L"}.get(image.mode, image.mode))
        try:
            image = ImageCms.profileToProfile(
                source,
                profile,
                _srgb(),
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode="RGB",
            )
        except ImageCms.PyCMSError as error:
            raise PhotoError(key, f"its ICC profile cannot convert it to sRGB: {error}") from None
        if alpha is not None:
            image.putalpha(alpha)
    return image.convert("RGBA")
