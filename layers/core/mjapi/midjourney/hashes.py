"""Job hash ("message hash") extraction from Midjourney image URLs, filenames and custom_ids.

The job hash is the UUID Midjourney gives every job; it is the ``H`` in button custom_ids and appears in the image
filenames. Rules (protocol notes §3.6): ``<uuid>_grid_0.webp`` progress previews, ``<user>_<slug>_<uuid>.png`` results,
``cdn.midjourney.com/<uuid>/0_0.png``, ``..._<uuid>_0_0.png`` variants, and finally any UUID in the last path
segment(s), as the peers NZ ``getMessageHash``, TA ``GetMessageHash`` and HJ's regex do.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_RE = re.compile(_UUID)
_FULL_UUID_RE = re.compile(rf"^{_UUID}$")

# Ordered from most to least specific. Each pattern runs on the decoded URL path (query and fragment dropped).
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?:^|[/_])({_UUID})_grid_\d+\.\w+$"),  # progress preview: <uuid>_grid_0.webp
    re.compile(rf"/({_UUID})/\d+_\d+(?:_\d+)?\.\w+$"),  # cdn.midjourney.com/<uuid>/0_0.png
    re.compile(rf"_({_UUID})_\d+_\d+\.\w+$"),  # ..._<uuid>_0_0.png
    re.compile(rf"_({_UUID})_\d+\.\w+$"),  # video: ..._<uuid>_0.mp4
    re.compile(rf"(?:^|[/_])({_UUID})\.\w+$"),  # result: <user>_<slug>_<uuid>.png
)


def is_job_hash(value: object) -> bool:
    """True when ``value`` is a string that is exactly one UUID (the shape of every Midjourney job id)."""
    return isinstance(value, str) and bool(_FULL_UUID_RE.match(value))


def hash_from_url(url: object) -> str | None:
    """Job UUID in an attachment URL, proxy URL or bare filename; ``None`` when there is none.

    Tolerates query strings (Discord's ``?ex=&is=&hm=``), percent-encoding and plain filenames. The result is
    lower-cased so the same job compares equal whatever the source.
    """
    if not isinstance(url, str) or not url:
        return None
    try:
        path = unquote(urlsplit(url).path) if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    except ValueError:
        path = url
    for pattern in _PATTERNS:
        found = pattern.search(path)
        if found:
            return found.group(1).lower()
    # Fallback: the last UUID in the path, which is where a job id sits whatever the naming scheme.
    matches = UUID_RE.findall(path)
    return matches[-1].lower() if matches else None


def hash_from_custom_id(custom_id: object) -> str | None:
    """Job UUID inside a component custom_id (``MJ::JOB::upsample::1::<uuid>``, ``MJ::CustomZoom::<uuid>``...)."""
    if not isinstance(custom_id, str):
        return None
    for part in custom_id.split("::"):
        if is_job_hash(part):
            return part.lower()
    return None
