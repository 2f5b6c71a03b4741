"""Deterministic, cheap images and videos: 2x2 grids, single upscales, progress previews and Animate's mp4s.

Every file is described by an `ImageSpec` (a small frozen value) and rendered on demand, so an evicted cache entry
re-renders to identical bytes. Drawing happens on a ~96 px palette canvas that is scaled up with nearest-neighbour,
which keeps a 1024x1024 palette PNG at a few milliseconds; previews are blurred, veiled renders of the same canvas
whose blur and veil shrink as progress grows, encoded as WebP (or JPEG, the step frames of video jobs). Grids of
v7 are lossless WebP like the real bot's; videos are short H.264 mp4s encoded with PyAV.
"""

from __future__ import annotations

import asyncio
import base64
import colorsys
import hashlib
import io
import math
import multiprocessing
import random
import threading
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace

import av
from PIL import Image, ImageDraw, ImageFilter

CANVAS_LONG_SIDE = 96
VIDEO_FPS = 12
VIDEO_FRAMES = 12  # one second; each Extend adds EXTEND_FRAMES
EXTEND_FRAMES = 6
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg", "mp4": "video/mp4"}
SHAPES = ("circle", "triangle", "square", "diamond", "ring", "cross")


@dataclass(frozen=True)
class ImageSpec:
    """What to draw. `kind` is "grid" (2x2), "single" (one quadrant at full size), "preview" (of a grid or a single),
    "video" (the single image in motion for `frames` frames) or "video_grid" (Animate's four videos of one image, an
    animated 2x2); `fmt` is the file format: png, webp, jpeg or mp4."""

    kind: str
    width: int
    height: int
    palette_seed: int
    tag: int = 0  # job-unique bits drawn as a small barcode, so two jobs never share grid bytes
    quadrant: int = 0  # for singles: which grid image (0-3) is shown
    progress: int = 100  # for previews
    zoom: float = 1.0  # >1 draws the content shrunk in the centre (zoom out)
    pan: str = ""  # "left" | "right" | "up" | "down": content shifted, new area filled
    base: str = "grid"  # for previews: the kind of the final image
    fmt: str = "png"
    frames: int = 0  # for videos
    motion: str = ""  # for videos: "high" moves the picture further than "low"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]

    @property
    def extension(self) -> str:
        return self.fmt


def image_dims(ar_w: int, ar_h: int, scale: float = 1.0, base: int = 1024) -> tuple[int, int]:
    """Pixel size for an aspect ratio at about base x base pixels, rounded to multiples of 8 (at least 64)."""
    ratio = ar_w / ar_h
    side = base * scale
    width = max(64, round(side * math.sqrt(ratio) / 8.0) * 8)
    height = max(64, round(side / math.sqrt(ratio) / 8.0) * 8)
    return width, height


def reduce_ratio(width: int, height: int) -> tuple[int, int]:
    divisor = math.gcd(width, height) or 1
    return width // divisor, height // divisor


# ----- result sizes: every size rule of the bots' images lives here ---------------------------------------------
#: Side of a 1:1 grid per model version; other ratios keep about as many pixels (`image_dims`). v6 and v7 grids are
#: 2048² (captures of 2024-26: a v7 grid 2048x2048, its U1 1024x1024); the v5 models keep 1024².
GRID_SIDE: dict[str, int] = {"6.0": 2048, "6.1": 2048, "7": 2048, "niji 6": 2048}
DEFAULT_GRID_SIDE = 1024
#: Side of the progress preview of a 1:1 grid where the bot sends real-size previews (v6.1 and v7: 512²,
#: ``<uuid>_grid_0.webp``); other ratios keep about as many pixels.
PREVIEW_SIDE = 512
VIDEO_KINDS = frozenset({"video", "video_grid"})  # jobs that make videos: JPEG step frames while they run
#: Side of the step frames of a video job (256x256 JPEG in captures of 2026).
VIDEO_PREVIEW_SIDE = 256

#: Width and height of each kind of result in tiles, a tile being one of the four images of a grid (half its width
#: and height): a grid is 2x2 tiles; U1-U4 crop one tile; Upscale (Subtle)/(Creative) and v5 Upscale (2x) double
#: the tile, v5 Upscale (4x) quadruples it.
SIZE_RULES: dict[str, int] = {"grid": 2, "tile": 1, "upscale_2x": 2, "upscale_4x": 4}


#: The bot's own image sizes for common ratios at a 2048 grid side (one image of the grid): 3:2 is 1344x896, so a
#: 1:1 v7 image panned right becomes a 2688x1792 grid, as captured in 2026. Other ratios keep ~1024² per image.
NATIVE_TILES: dict[tuple[int, int], tuple[int, int]] = {
    (1, 1): (1024, 1024),
    (4, 3): (1232, 928),
    (3, 4): (928, 1232),
    (3, 2): (1344, 896),
    (2, 3): (896, 1344),
    (16, 9): (1456, 816),
    (9, 16): (816, 1456),
}


def result_size(rule: str, ar: tuple[int, int], *, version: str = "", scale: float = 1.0) -> tuple[int, int]:
    """Pixel size of a result (`rule` is a key of `SIZE_RULES`) for an aspect ratio and model version."""
    side = GRID_SIDE.get(version, DEFAULT_GRID_SIDE)
    native = NATIVE_TILES.get(reduce_ratio(*ar)) if side == 2048 else None
    if native is not None:
        grid_w = max(64, round(native[0] * 2 * scale / 8) * 8)
        grid_h = max(64, round(native[1] * 2 * scale / 8) * 8)
    else:
        grid_w, grid_h = image_dims(*ar, scale=scale, base=side)
    tiles = SIZE_RULES[rule]
    return grid_w // 2 * tiles, grid_h // 2 * tiles


def outpaint_ratio(ar: tuple[int, int], *, pan: str = "", square: bool = False) -> tuple[int, int]:
    """The aspect ratio of an outpainted canvas. Zoom Out keeps the ratio (the model redraws the larger scene at its
    native size), Make Square makes it 1:1, and a pan grows the panned side by half (1:1 panned right is 3:2)."""
    w, h = ar
    if square:
        return 1, 1
    if pan in ("left", "right"):
        return reduce_ratio(w * 3, h * 2)
    if pan in ("up", "down"):
        return reduce_ratio(w * 2, h * 3)
    return reduce_ratio(w, h)


class _Palette:
    """Colours of one image family: a base hue with four quadrant hues and their motifs."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        base = rng.random()
        self.backgrounds: list[tuple[int, int, int]] = []
        self.foregrounds: list[tuple[int, int, int]] = []
        self.shapes: list[str] = []
        for quadrant in range(4):
            hue = (base + quadrant * 0.25 + rng.uniform(-0.06, 0.06)) % 1.0
            self.backgrounds.append(_rgb(hue, rng.uniform(0.45, 0.75), rng.uniform(0.55, 0.85)))
            self.foregrounds.append(_rgb((hue + 0.5) % 1.0, rng.uniform(0.6, 0.95), rng.uniform(0.3, 0.95)))
            self.shapes.append(rng.choice(SHAPES))


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def _canvas_size(width: int, height: int) -> tuple[int, int]:
    if width >= height:
        return CANVAS_LONG_SIDE, max(8, round(CANVAS_LONG_SIDE * height / width))
    return max(8, round(CANVAS_LONG_SIDE * width / height)), CANVAS_LONG_SIDE


def _draw_shape(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], shape: str, fill: tuple[int, int, int]
) -> None:
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "diamond":
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=fill)
    elif shape == "ring":
        width = max(2, int((x1 - x0) / 5))
        draw.ellipse(box, outline=fill, width=width)
    else:
        third_w, third_h = (x1 - x0) / 3, (y1 - y0) / 3
        draw.rectangle((x0 + third_w, y0, x1 - third_w, y1), fill=fill)
        draw.rectangle((x0, y0 + third_h, x1, y1 - third_h), fill=fill)


def _draw_tile(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], palette: _Palette, quadrant: int, tag: int
) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=palette.backgrounds[quadrant])
    w, h = x1 - x0, y1 - y0
    margin_x, margin_y = w // 5, h // 5
    _draw_shape(
        draw,
        (x0 + margin_x, y0 + margin_y, x1 - margin_x, y1 - margin_y),
        palette.shapes[quadrant],
        palette.foregrounds[quadrant],
    )
    # Barcode: 8 job-unique bits along the bottom edge of the tile.
    cell = max(1, w // 12)
    for bit in range(8):
        if (tag >> (bit + 8 * quadrant)) & 1:
            bx = x0 + cell * (bit + 2)
            draw.rectangle((bx, y1 - 1 - cell, bx + cell - 1, y1 - 1), fill=(250, 250, 250))
        else:
            bx = x0 + cell * (bit + 2)
            draw.rectangle((bx, y1 - 1 - cell, bx + cell - 1, y1 - 1), fill=(20, 20, 20))


def _apply_zoom_pan(canvas: Image.Image, spec: ImageSpec, palette: _Palette) -> Image.Image:
    if spec.zoom <= 1.0 and not spec.pan:
        return canvas
    width, height = canvas.size
    frame = Image.new("RGB", (width, height), palette.foregrounds[spec.quadrant])
    if spec.zoom > 1.0:
        inner = canvas.resize(
            (max(1, int(width / spec.zoom)), max(1, int(height / spec.zoom))), Image.Resampling.NEAREST
        )
        frame.paste(inner, ((width - inner.width) // 2, (height - inner.height) // 2))
        return frame
    shift_x = {"left": width // 3, "right": -(width // 3)}.get(spec.pan, 0)
    shift_y = {"up": height // 3, "down": -(height // 3)}.get(spec.pan, 0)
    frame.paste(canvas, (shift_x, shift_y))
    return frame


def _render_canvas(spec: ImageSpec, size: tuple[int, int] | None = None, mode: str = "RGB") -> Image.Image:
    """Draw the image: on a small RGB canvas (scaled up later), or directly at full size in palette mode."""
    palette = _Palette(spec.palette_seed)
    cw, ch = size or _canvas_size(spec.width, spec.height)
    canvas = Image.new(mode, (cw, ch))
    draw = ImageDraw.Draw(canvas)  # in "P" mode, RGB fills are allocated palette entries
    if spec.kind in ("single", "video"):
        _draw_tile(draw, (0, 0, cw, ch), palette, spec.quadrant, spec.tag)
    else:
        half_w, half_h = cw // 2, ch // 2
        for quadrant in range(4):
            qx, qy = (quadrant % 2) * half_w, (quadrant // 2) * half_h
            _draw_tile(
                draw,
                (qx, qy, qx + half_w if quadrant % 2 == 0 else cw, qy + half_h if quadrant < 2 else ch),
                palette,
                quadrant,
                spec.tag,
            )
        # White separators make the four images unmistakable.
        line = max(1, cw // 96)
        draw.line((half_w, 0, half_w, ch), fill=(255, 255, 255), width=line)
        draw.line((0, half_h, cw, half_h), fill=(255, 255, 255), width=line)
    if mode != "RGB":
        return canvas
    return _apply_zoom_pan(canvas, spec, palette)


def render(spec: ImageSpec) -> bytes:
    """Encode the image (or video) described by `spec` (pure function of the spec)."""
    if spec.kind == "video":
        return render_video(spec)
    if spec.kind == "video_grid":
        return render_video_grid(spec)
    if spec.kind == "preview":
        full = replace(spec, kind=spec.base, progress=100, fmt="png")
        canvas = _render_canvas(full)
        progress = max(0, min(100, spec.progress)) / 100.0
        blurred = canvas.filter(ImageFilter.BoxBlur(radius=(1.0 - progress) * 6.0 + 0.3))
        veil = Image.new("RGB", canvas.size, (128, 128, 136))
        mixed = Image.blend(veil, blurred, 0.25 + 0.75 * progress)
        out = mixed.resize((spec.width, spec.height), Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        if spec.fmt == "jpeg":
            out.save(buffer, "JPEG", quality=40)
        else:
            out.save(buffer, "WEBP", quality=30, method=0)
        return buffer.getvalue()
    if spec.fmt == "webp":
        # Lossless at the fastest effort: a flat 2048² grid encodes in ~0.15 s and stays small.
        rgb = _render_canvas(spec).resize((spec.width, spec.height), Image.Resampling.NEAREST)
        buffer = io.BytesIO()
        rgb.save(buffer, "WEBP", lossless=True, quality=0, method=0)
        return buffer.getvalue()
    if spec.zoom <= 1.0 and not spec.pan:
        out = _render_canvas(spec, (spec.width, spec.height), "P")
    else:
        canvas = _render_canvas(spec).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = canvas.resize((spec.width, spec.height), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    out.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def render_video(spec: ImageSpec) -> bytes:
    """A short mp4 of the single image in motion: the picture drifts (further for high motion) and its shape turns.

    H.264 (libx264, yuv420p, ultrafast) in an mp4 container through PyAV; the size is the image's (H.264 needs even
    sides, which every size here is: they are multiples of 8). Frames are drawn on the small canvas and scaled up.
    """
    still = replace(spec, kind="single", fmt="png", frames=0, motion="")
    canvas = _render_canvas(still)
    palette = _Palette(spec.palette_seed)
    reach = 0.18 if spec.motion == "high" else 0.06
    frames = max(1, spec.frames)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=VIDEO_FPS)
        stream.width = spec.width
        stream.height = spec.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "32"}
        for index in range(frames):
            phase = math.sin(2 * math.pi * index / max(frames, 2))
            frame = Image.new("RGB", canvas.size, palette.backgrounds[spec.quadrant])
            frame.paste(canvas, (round(phase * reach * canvas.width), round(phase * reach * canvas.height / 2)))
            image = frame.resize((spec.width, spec.height), Image.Resampling.NEAREST)
            for packet in stream.encode(av.VideoFrame.from_image(image)):  # type: ignore[no-untyped-call]
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


#: Frames of Animate's grid preview (an animated WebP of the four videos, at 8 frames a second).
VIDEO_GRID_FRAMES = 8


def render_video_grid(spec: ImageSpec) -> bytes:
    """Animate's result: the four videos it made of one image, side by side in a 2x2 animated WebP (what the bot
    posts; each video is then one U1-U4 away). Each tile drifts with its own phase, further for high motion."""
    tile_w, tile_h = max(8, spec.width // 2), max(8, spec.height // 2)
    still = replace(spec, kind="single", fmt="png", frames=0, motion="")
    picture = _render_canvas(still).resize((tile_w, tile_h), Image.Resampling.NEAREST)
    palette = _Palette(spec.palette_seed)
    reach = 0.18 if spec.motion == "high" else 0.06
    frames: list[Image.Image] = []
    for index in range(VIDEO_GRID_FRAMES):
        frame = Image.new("RGB", (tile_w * 2, tile_h * 2), (255, 255, 255))
        for quadrant in range(4):
            phase = math.sin(2 * math.pi * index / VIDEO_GRID_FRAMES + quadrant * math.pi / 2)
            tile = Image.new("RGB", (tile_w, tile_h), palette.backgrounds[spec.quadrant])
            tile.paste(picture, (round(phase * reach * tile_w), round(phase * reach * tile_h / 2)))
            frame.paste(tile, ((quadrant % 2) * tile_w, (quadrant // 2) * tile_h))
        frames.append(frame.resize((spec.width, spec.height), Image.Resampling.NEAREST))
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "WEBP", save_all=True, append_images=frames[1:], duration=1000 // 8, loop=0, quality=40, method=0
    )
    return buffer.getvalue()


def placeholder(spec: ImageSpec) -> str:
    """The attachment's `placeholder` (Discord sends a ThumbHash there): an opaque, deterministic base64 string of the
    same length that clients only pass around; nothing decodes it."""
    digest = hashlib.sha256(repr(spec).encode()).digest()[:21]
    return base64.b64encode(digest).decode()


class ImageStore:
    """Rendered bytes by spec: an LRU cache with a byte budget, rendering off the event loop.

    Renders run in a small thread pool, or (``processes`` > 0) in worker processes, which keeps Pillow's work from
    competing with the event loop for the GIL under heavy load. Concurrent requests for one spec share one render.
    """

    def __init__(self, max_bytes: int, threads: int = 2, processes: int = 0) -> None:
        self._max_bytes = max_bytes
        self._cache: OrderedDict[ImageSpec, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._pool: Executor
        if processes > 0:
            self._pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
        else:
            self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="sim-render")
        self._inflight: dict[ImageSpec, asyncio.Future[bytes]] = {}
        self.renders = 0

    def _remember(self, spec: ImageSpec, data: bytes) -> None:
        with self._lock:
            if spec in self._cache:
                self._cache.move_to_end(spec)
                return
            self._cache[spec] = data
            self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._bytes -= len(old)

    def cached(self, spec: ImageSpec) -> bytes | None:
        with self._lock:
            data = self._cache.get(spec)
            if data is not None:
                self._cache.move_to_end(spec)
            return data

    def get_sync(self, spec: ImageSpec) -> bytes:
        data = self.cached(spec)
        if data is None:
            data = render(spec)
            self.renders += 1
            self._remember(spec, data)
        return data

    async def get(self, spec: ImageSpec) -> bytes:
        data = self.cached(spec)
        if data is not None:
            return data
        pending = self._inflight.get(spec)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.run_in_executor(self._pool, render, spec)
        self._inflight[spec] = future
        try:
            data = await asyncio.shield(future)
        finally:
            self._inflight.pop(spec, None)
        self.renders += 1
        self._remember(spec, data)
        return data

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._bytes = 0

    def close(self) -> None:
        # Waiting is quick (queued renders are cancelled) and avoids the pool's manager thread writing to closed pipes.
        self._pool.shutdown(wait=True, cancel_futures=True)


def probe_image(data: bytes) -> tuple[int, int, str, tuple[int, int, int]] | None:
    """(width, height, mime type, mean colour) of an uploaded image, or None if Pillow cannot read it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            mime = Image.MIME.get(image.format or "", "application/octet-stream")
            mean = image.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
            width, height = image.size
    except Exception:  # Pillow raises many types for garbage input; any of them means "not an image"
        return None
    assert isinstance(mean, tuple)
    return width, height, mime, (int(mean[0]), int(mean[1]), int(mean[2]))
