"""Where a job's webhooks go, checked when the URL enters (submit time): a bad one is a 400, not a silent failure."""

from __future__ import annotations

from mjapi.service.errors import bad_request


def check_notify_hook(url: str | None) -> str | None:
    """The hook to store (None for none: an empty string is what many clients send for "no hook"). Raises
    ``400 invalid_notify_hook`` for a URL the guard refuses without a DNS lookup: not http(s), malformed, or a
    loopback/private/link-local/metadata address literal (unless ``MJAPI_URL_ALLOWLIST`` allows it). Names that
    resolve to such addresses are refused at delivery time (recorded on the delivery)."""
    if url is None or not url.strip():
        return None
    from mjapi import net_guard  # httpcore comes with it: only requests that carry a hook pay for the import

    try:
        net_guard.check_url(url.strip())
    except net_guard.UrlRefused as exc:
        raise bad_request("invalid_notify_hook", f"notify_hook: {exc.message}", reason=exc.code) from exc
    return url.strip()
