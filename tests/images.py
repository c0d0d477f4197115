"""Small test images made in memory, and comparing pixels."""

import io

from PIL import Image

RED, BLUE, WHITE = (220, 30, 30), (30, 30, 220), (255, 255, 255)


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def marked(width=300, height=200) -> Image.Image:
    """White, with a red block at the top left and a blue one at the bottom right."""
    image = Image.new("RGB", (width, height), WHITE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    image.paste(BLUE, (width - width // 4, height - height // 4, width, height))
    return image


def close(a, b, tolerance=12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


def cut_out(width=400, height=300, box=(240, 40, 360, 200), colour=RED) -> Image.Image:
    """A transparent RGBA photo with one opaque product at `box` (left, top, right, bottom)."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((*colour, 255), box)
    return image
