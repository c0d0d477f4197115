"""Object key layout: the contract downstream consumers rely on, identical in every deployment."""

from __future__ import annotations

import hashlib
import re

SPECS_PREFIX = "specs/"
RENDERS_PREFIX = "renders/"
MANIFESTS_PREFIX = "manifests/"
PREVIEWS_PREFIX = "previews/"
REJECTED_PREFIX = "rejected/"
TEMPLATES_PREFIX = "templates/"
ASSETS_PREFIX = "assets/"
FONTS_PREFIX = "fonts/"
MAX_KEY_LENGTH = 1024

# A key we write is segments of the id alphabet, each with optional dot-separated extensions.
# That rules out "..", absolute paths, backslashes and anything a shell or URL would reinterpret.
# Applied with fullmatch, never match: `$` also matches before a final "\n".
# The id alphabet: product, variant and output ids, and template names.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# A template layer's id, as a template declares it and a spec names it (an SVG id, so capitals).
LAYER_ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}(\.[a-z0-9]{1,16}){0,4}")
_SPEC_KEY = re.compile(r"specs/([a-z0-9][a-z0-9_-]{0,63})\.json")
# A template's main layout, templates/<name>.svg, and its other layouts,
# templates/<name>.<layout>.svg (render/layouts.py).
_TEMPLATE_KEY = re.compile(
    r"templates/([a-z0-9][a-z0-9_-]{0,63})(?:\.([a-z0-9][a-z0-9-]{0,31}))?\.svg"
)
LAYOUT_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
# The main layout's name: its file is templates/<name>.svg, never templates/<name>.main.svg.
MAIN_LAYOUT = "main"
# Brand font files: an id and the format's extension (acme-sans-bold.otf), as for templates.
_FONT_KEY = re.compile(r"fonts/([a-z0-9][a-z0-9_-]{0,63}\.(?:ttf|otf))")
# Photo names are the user's own (capitals, dots): segments of a safe alphabet, no "." or "..",
# a photo extension at the end.
_ASSET_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
ASSET_EXTENSIONS = ("jpg", "jpeg", "png", "webp")


class InvalidKeyError(ValueError):
    """A key outside the layout, or one that could escape the bucket."""


def validate_key(key: str) -> str:
    """Return `key` if it follows the layout grammar; raise InvalidKeyError otherwise."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"invalid key {key!r}: empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"invalid key {key[:64]!r}...: longer than {MAX_KEY_LENGTH}")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKeyError(
                f"invalid key {key!r}: segment {segment!r} is not lowercase a-z, 0-9, '-', '_' "
                "with optional .extensions"
            )
    return key


def validate_foreign_key(key: str) -> str:
    """Accept a key someone else wrote (an upload) if it cannot escape the bucket.

    Uploaded spec names are not ours to choose, so they are only held to safety: no empty,
    "." or ".." segments, no leading "/", no backslash or control characters.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(f"invalid key {key!r}: empty or too long")
    if key.startswith("/") or "\\" in key:
        raise InvalidKeyError(f"invalid key {key!r}: absolute or contains a backslash")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise InvalidKeyError(f"invalid key {key!r}: contains a control character")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise InvalidKeyError(f"invalid key {key!r}: empty, '.' or '..' segment")
    return key


def validate_asset_key(key: str) -> str:
    """Return `key` if it names a photo under assets/; raise InvalidKeyError otherwise."""
    if not isinstance(key, str) or not key.startswith(ASSETS_PREFIX) or len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(
            f"invalid key {key!r}: a photo's key is assets/<path>, at most {MAX_KEY_LENGTH} long"
        )
    segments = key.removeprefix(ASSETS_PREFIX).split("/")
    if not all(_ASSET_SEGMENT.fullmatch(segment) and ".." not in segment for segment in segments):
        raise InvalidKeyError(
            f"invalid key {key!r}: each part of the path is letters, digits, '.', '-', '_' "
            "(not starting with '.' or '-', no '..')"
        )
    if segments[-1].rsplit(".", 1)[-1].lower() not in ASSET_EXTENSIONS or "." not in segments[-1]:
        raise InvalidKeyError(f"invalid key {key!r}: a photo ends in .jpg, .jpeg, .png or .webp")
    return key


def template_key(name: str, layout: str = MAIN_LAYOUT) -> str:
    """templates/<name>.svg for the main layout, templates/<name>.<layout>.svg for another."""
    return f"{TEMPLATES_PREFIX}{template_file_name(name, layout)}"


def template_file_name(name: str, layout: str = MAIN_LAYOUT, extension: str = "svg") -> str:
    """<name>.<extension> for the main layout, <name>.<layout>.<extension> for another: a
    layout's file, and its preview's."""
    name = _check_id(name, "template name")
    if layout == MAIN_LAYOUT:
        return f"{name}.{extension}"
    if not LAYOUT_NAME_PATTERN.fullmatch(layout):
        raise InvalidKeyError(f"layout name {layout!r} is not 1-32 of a-z, 0-9, '-'")
    return f"{name}.{layout}.{extension}"


def template_layouts_prefix(name: str) -> str:
    """The prefix of every key of a template's other layouts."""
    return f"{TEMPLATES_PREFIX}{_check_id(name, 'template name')}."


def template_name_from_key(key: str) -> str | None:
    """The template name a key names (of any of its layouts), or None when the key is not
    `templates/<name>.svg` or `templates/<name>.<layout>.svg`."""
    found = template_layout_from_key(key)
    return found[0] if found else None


def template_layout_from_key(key: str) -> tuple[str, str] | None:
    """(template name, layout name) of a template key; None when it is not one. A file
    named templates/<name>.main.svg is not a key: the main layout is templates/<name>.svg."""
    match = _TEMPLATE_KEY.fullmatch(key)
    if match is None or match.group(2) == MAIN_LAYOUT:
        return None
    return match.group(1), match.group(2) or MAIN_LAYOUT


def font_key(file_name: str) -> str:
    key = f"{FONTS_PREFIX}{file_name}"
    if _FONT_KEY.fullmatch(key) is None:
        raise InvalidKeyError(
            f"invalid font file name {file_name!r}: 1 to 64 of a-z, 0-9, '-' and '_', then .ttf "
            "or .otf"
        )
    return key


def font_file_from_key(key: str) -> str | None:
    """The file name a key names, or None when the key is not `fonts/<name>.ttf|otf`."""
    match = _FONT_KEY.fullmatch(key)
    return match.group(1) if match else None


def _check_id(value: str, what: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise InvalidKeyError(f"invalid {what} {value!r}")
    return value


def spec_key(product_id: str) -> str:
    return f"{SPECS_PREFIX}{_check_id(product_id, 'product_id')}.json"


def product_id_from_spec_key(key: str) -> str | None:
    """The product id a spec key names, or None when the key is not `specs/<product_id>.json`."""
    match = _SPEC_KEY.fullmatch(key)
    return match.group(1) if match else None


def output_key(product_id: str, variant_id: str, output_name: str, extension: str) -> str:
    return validate_key(
        f"{RENDERS_PREFIX}{_check_id(product_id, 'product_id')}/"
        f"{_check_id(variant_id, 'variant_id')}/{_check_id(output_name, 'output name')}.{extension}"
    )


def manifest_key(product_id: str) -> str:
    return f"{MANIFESTS_PREFIX}{_check_id(product_id, 'product_id')}.json"


def preview_key(product_id: str) -> str:
    return f"{PREVIEWS_PREFIX}{_check_id(product_id, 'product_id')}.jpg"


def rejected_font_key(upload_key: str) -> str:
    """Where an uploaded font that was refused goes: rejected/fonts/<name>, its own name when
    it is a valid one, else reduced to the id alphabet with a hash of the original key."""
    name = font_file_from_key(upload_key)
    if name is None:
        stem = re.sub(r"[^a-z0-9_-]+", "-", upload_key.removeprefix(FONTS_PREFIX).lower())
        digest = hashlib.sha256(upload_key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        name = f"{stem.strip('-_')[:40] or 'font'}-{digest}.font"
    return validate_key(f"{REJECTED_PREFIX}{FONTS_PREFIX}{name}")


def rejected_name(upload_key: str) -> str:
    """A safe name under rejected/ for an uploaded spec key.

    A canonical `specs/<id>.json` keeps its file name. Anything else (spaces, capitals,
    sub-folders) is reduced to the id alphabet and suffixed with a hash of the original key,
    so two different uploads never share a report.
    """
    if product_id_from_spec_key(upload_key):
        return upload_key.removeprefix(SPECS_PREFIX)
    stem = upload_key.removeprefix(SPECS_PREFIX).lower()
    stem = stem.removesuffix(".json")
    stem = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:40] or "spec"
    digest = hashlib.sha256(upload_key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{stem}-{digest}.json"


def rejected_key(upload_key: str) -> str:
    return validate_key(f"{REJECTED_PREFIX}{rejected_name(upload_key)}")


def rejected_report_key(upload_key: str) -> str:
    return validate_key(f"{REJECTED_PREFIX}{rejected_name(upload_key)}.error.json")
