"""Image files read from users and datasets, decoded only when their size is sane."""

from __future__ import annotations

from genzoo.errors import GenzooError, brief

MAX_PIXELS = 64 * 1024 * 1024  # 8192 x 8192: far above any dataset image, far below a decompression bomb


def open_image(source, name: str, mode: str):
    """The image in `source` (a path or a binary file object) converted to `mode` ("L", "RGB"); a
    file that is not an image, or whose header claims more than MAX_PIXELS, is a one-line error
    raised before its pixels are decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(source)
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise GenzooError(f"{name} claims {width}x{height} pixels, more than the {MAX_PIXELS:,} genzoo reads; is it the right file?")
        return image.convert(mode)
    except Image.DecompressionBombError:  # PIL's own check, at twice its limit, fires before ours
        raise GenzooError(f"{name} claims more pixels than genzoo reads ({MAX_PIXELS:,}); is it the right file?") from None
    except UnidentifiedImageError:
        raise GenzooError(f"{name} is not a readable image (no image format PIL knows)") from None
    except (OSError, ValueError) as exc:
        raise GenzooError(f"{name} is not a readable image ({brief(exc)})") from None
