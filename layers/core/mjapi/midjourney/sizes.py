"""Expected output image size for an aspect ratio, to sanity-check results.

Facts: ``--ar`` takes whole numbers and Midjourney rounds the final ratio (legacy docs, "Aspect Ratios": ``--ar 16:9``
gives a 7:4-ish image); the v5/v6 single-image sizes seen in the wild are 1024x1024 (1:1), 1232x928 (4:3), 1344x896
(3:2) and 1456x816 (16:9), each side a multiple of 16 (§3.1: 1024² in 2023, grids 2x2 of those). Other ratios are
approximated with the same pixel budget (~1.18 MP, the mean of the known sizes) and 16-pixel rounding; use
:func:`aspect_matches` with a tolerance rather than exact equality.
"""

from __future__ import annotations

import math

_KNOWN: dict[tuple[int, int], tuple[int, int]] = {
    (1, 1): (1024, 1024),
    (4, 3): (1232, 928),
    (3, 2): (1344, 896),
    (16, 9): (1456, 816),
}
_BUDGET = 1_180_000  # pixels; mean of the known non-square sizes
_STEP = 16


def reduce_ratio(width: int, height: int) -> tuple[int, int]:
    """``16:9`` stays, ``32:18`` becomes ``16:9``. Raises ``ValueError`` for non-positive sides."""
    if width <= 0 or height <= 0:
        raise ValueError("aspect ratio sides must be positive")
    divisor = math.gcd(width, height)
    return width // divisor, height // divisor


def _round(value: float) -> int:
    return max(_STEP, round(value / _STEP) * _STEP)


def output_size(width: int = 1, height: int = 1) -> tuple[int, int]:
    """Approximate pixel size of one v5+ image for ``--ar width:height`` (not upscaled)."""
    w, h = reduce_ratio(width, height)
    if (w, h) in _KNOWN:
        return _KNOWN[(w, h)]
    if (h, w) in _KNOWN:
        tall = _KNOWN[(h, w)]
        return tall[1], tall[0]
    ratio = w / h
    return _round(math.sqrt(_BUDGET * ratio)), _round(math.sqrt(_BUDGET / ratio))


def grid_size(width: int = 1, height: int = 1) -> tuple[int, int]:
    """Approximate pixel size of the 2x2 grid image for ``--ar width:height``."""
    w, h = output_size(width, height)
    return 2 * w, 2 * h


def aspect_matches(actual_width: int, actual_height: int, width: int, height: int, tolerance: float = 0.05) -> bool:
    """True when an image's shape is within ``tolerance`` (relative) of ``width:height``."""
    if actual_width <= 0 or actual_height <= 0 or width <= 0 or height <= 0:
        return False
    expected, actual = width / height, actual_width / actual_height
    return abs(actual - expected) / expected <= tolerance
