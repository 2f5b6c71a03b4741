"""Tunable knobs of a simulator instance. Defaults mimic the real service; tests raise `speed`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BucketLimit:
    """A per-token (and per major resource) fixed-window limit: `limit` requests every `window` seconds."""

    limit: int
    window: float


def _default_buckets() -> dict[str, BucketLimit]:
    return {
        "interactions": BucketLimit(50, 10.0),
        "messages": BucketLimit(50, 1.0),
        "reactions": BucketLimit(1, 0.25),
        "attachments": BucketLimit(20, 5.0),
        "refresh-urls": BucketLimit(20, 5.0),
        "default": BucketLimit(50, 1.0),
    }


@dataclass
class RateLimitConfig:
    """Real-time rate limits (they are *not* scaled by `speed`, like Discord's own)."""

    enabled: bool = True
    global_limit: int = 50
    global_window: float = 1.0
    buckets: dict[str, BucketLimit] = field(default_factory=_default_buckets)


@dataclass
class SimConfig:
    """All simulator settings.

    Durations of the bot (job times, delays, the 3 s interaction timeout) are "simulated seconds" and are divided
    by `speed`. Gateway heartbeats, CDN expiry, rate limits and session resume windows are wall-clock seconds.
    """

    seed: int = 0
    speed: float = 1.0
    heartbeat_interval_ms: int = 41250
    heartbeat_grace: float = 1.5  # close if no heartbeat within interval * grace (+ 5 s)
    session_resume_timeout: float = 300.0
    replay_buffer: int = 2000
    max_sessions_per_user: int = 8  # beyond this, the oldest disconnected sessions stop being resumable
    cdn_ttl: float = 86400.0
    image_scale: float = 1.0
    preview_scale: float = 0.125  # previews are low-res and cheap: 128x128 for a 1024x1024 grid
    image_cache_bytes: int = 256 * 1024 * 1024
    upload_cache_bytes: int = 256 * 1024 * 1024
    max_messages_per_channel: int = 1000
    max_jobs_per_account: int = 5000
    fast_concurrency: int = 3
    max_queued: int = 10
    interaction_ack_delay: float = 0.4
    interaction_timeout: float = 3.0
    gateway_events_per_minute: int = 120
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    render_threads: int = 2
    render_processes: int = 0  # >0: render in worker processes (frees the event loop's GIL under heavy load)
    tls: bool = False  # serve https/wss with a self-signed certificate generated at start (`Simulator.tls_cert_file`)
