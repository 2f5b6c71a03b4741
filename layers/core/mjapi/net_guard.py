"""URLs from users, fetched safely: the one guard for webhooks, describe-by-link and image prompts (SSRF).

A URL must be http(s); its host is resolved once and every address must be public (not loopback, private, link-local,
multicast, reserved, unspecified, shared/CGNAT, nor a cloud metadata address) unless the allow-list setting
``MJAPI_URL_ALLOWLIST`` (comma-separated CIDRs and host names) says otherwise. The connection then goes to the checked
address itself (a network backend that ignores the host name), so a second DNS answer cannot swap in another target
(no TOCTOU); TLS still verifies the certificate against the URL's host name. Redirects are not followed unless asked
for, and then every hop is checked again. Timeouts: connect 3 s and a hard total deadline of 10 s by default (every
socket read and write is clamped to what is left); response bodies are read up to a bound.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
from pydantic_settings import BaseSettings, SettingsConfigDict

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata endpoints (AWS IPv4/IPv6, also GCP/Azure/OpenStack's 169.254.169.254): refused even when an
# allowed network covers them, unless the allow-list names the address itself.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
MAX_URL_LENGTH = 2000
CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0

Resolver = Callable[[str, int], Sequence[str]]


class UrlRefused(ValueError):
    """The URL may not be fetched: ``code`` is stable (``bad_url``, ``bad_scheme``, ``forbidden_address``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FetchFailed(Exception):
    """The target could not be reached or answered badly (timeout, connection refused, body too large...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GuardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MJAPI_", extra="ignore")

    url_allowlist: str = ""


@dataclass(frozen=True)
class Policy:
    """What may be reached besides public addresses: networks (CIDRs or single addresses) and host names."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str) -> Policy:
        """``"127.0.0.0/8, ::1, hooks.internal"``: CIDRs, addresses and host names (case-insensitive)."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        return host in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        address = _unmapped(address)
        if address in METADATA_ADDRESSES:
            return any(net.num_addresses == 1 and address in net for net in self.networks)
        if any(address.version == net.version and address in net for net in self.networks):
            return True
        return address.is_global and not address.is_multicast


@lru_cache(maxsize=8)
def _parse_cached(text: str) -> Policy:
    return Policy.parse(text)


def current_policy() -> Policy:
    """The policy from ``MJAPI_URL_ALLOWLIST`` (read at each call: the environment is the configuration)."""
    return _parse_cached(GuardSettings().url_allowlist)


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class Target:
    """A checked URL: scheme, host (lower case, no brackets), port, and the address literal if the host is one."""

    url: str
    scheme: str
    host: str
    port: int
    literal: IPAddress | None


def check_url(url: str, policy: Policy | None = None) -> Target:
    """Everything that can be checked without DNS: scheme, shape, and the address if the host is a literal (or a
    local name). Raises UrlRefused. Use at submit time; ``resolve`` checks the DNS answer at fetch time."""
    policy = policy or current_policy()
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UrlRefused("bad_url", f"The URL must be 1-{MAX_URL_LENGTH} characters.")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UrlRefused("bad_url", "The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("bad_url", f"Not a valid URL: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("bad_scheme", "Only http and https URLs are accepted.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused("bad_url", "The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("bad_url", "Credentials in the URL are not accepted.")
    literal: IPAddress | None = None
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if not all(c.isalnum() or c in "-._" for c in host):
            raise UrlRefused("bad_url", "The host name is not valid.") from None
    target = Target(url, scheme, host, port or (443 if scheme == "https" else 80), literal)
    if policy.allows_host(host):
        return target
    if literal is not None and not policy.allows_address(literal):
        raise UrlRefused("forbidden_address", f"{literal} is not a public address.")
    local_name = literal is None and (host in _LOCAL_NAMES or host.endswith(".localhost"))
    if local_name and not policy.allows_address(ipaddress.ip_address("127.0.0.1")):
        raise UrlRefused("forbidden_address", f"{host} is a loopback name.")
    return target


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve(target: Target, policy: Policy | None = None, resolver: Resolver | None = None) -> IPAddress:
    """The address to connect to: the literal, or the first DNS answer once every answer is allowed (one forbidden
    answer refuses the host: a name that can point inside is never fetched). Raises UrlRefused or FetchFailed."""
    policy = policy or current_policy()
    if target.literal is not None:
        return target.literal
    try:
        answers = (resolver or system_resolver)(target.host, target.port)
    except OSError as exc:
        raise FetchFailed("dns_failed", f"Could not resolve {target.host}.") from exc
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))
        except ValueError:
            continue
    if not addresses:
        raise FetchFailed("dns_failed", f"{target.host} has no address.")
    if not policy.allows_host(target.host):
        for address in addresses:
            if not policy.allows_address(address):
                raise UrlRefused("forbidden_address", f"{target.host} resolves to {address}, not a public address.")
    return addresses[0]


# -- fetching ---------------------------------------------------------------------------------------------------------


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write waits at most until the request's overall deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("total time limit reached")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the one checked address whatever host name the request carries (no second DNS lookup)."""

    def __init__(self, address: IPAddress, deadline: float) -> None:
        self._address = address
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("total time limit reached")
        stream = self._inner.connect_tcp(
            str(self._address),
            port,
            timeout=left if timeout is None else min(timeout, left),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class FetchResult:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str  # the URL that answered (after redirects, when they are followed)
    address: str  # the address actually connected to

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308)


def fetch(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes = b"",
    policy: Policy | None = None,
    resolver: Resolver | None = None,
    max_body: int = 64 * 1024,
    max_redirects: int = 0,
    connect_timeout: float = CONNECT_TIMEOUT,
    total_timeout: float = TOTAL_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchResult:
    """One request through the guard. Redirects come back as they are (``is_redirect``) unless ``max_redirects`` > 0,
    in which case each Location is checked like the first URL (and the method becomes GET for 301/302/303).

    Raises UrlRefused (policy: never retry) or FetchFailed (network, timeout, body larger than ``max_body``)."""
    policy = policy or current_policy()
    deadline = time.monotonic() + total_timeout
    current, hops = url, 0
    while True:
        result = _fetch_once(
            method,
            current,
            headers=headers or {},
            content=content,
            policy=policy,
            resolver=resolver,
            max_body=max_body,
            connect_timeout=connect_timeout,
            deadline=deadline,
            ssl_context=ssl_context,
        )
        location = result.headers.get("location")
        if not result.is_redirect or not location or hops >= max_redirects:
            return result
        hops += 1
        current = urljoin(current, location)
        if result.status in (301, 302, 303) and method.upper() not in ("GET", "HEAD"):
            method, content = "GET", b""


def _fetch_once(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    content: bytes,
    policy: Policy,
    resolver: Resolver | None,
    max_body: int,
    connect_timeout: float,
    deadline: float,
    ssl_context: ssl.SSLContext | None,
) -> FetchResult:
    target = check_url(url, policy)
    address = resolve(target, policy, resolver)
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("timeout", "The total time limit was reached.")
    timeouts = {"connect": min(connect_timeout, left), "read": left, "write": left, "pool": left}
    pool = httpcore.ConnectionPool(
        ssl_context=ssl_context or ssl.create_default_context(),
        network_backend=_PinnedBackend(address, deadline),
        retries=0,
        max_connections=1,
    )
    try:
        with pool.stream(
            method.upper(),
            target.url,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
            content=content,
            extensions={"timeout": timeouts},
        ) as response:
            body = bytearray()
            for chunk in response.iter_stream():
                body.extend(chunk)
                if len(body) > max_body:
                    raise FetchFailed("body_too_large", f"The response is larger than {max_body} bytes.")
            answer = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
            return FetchResult(response.status, answer, bytes(body), target.url, str(address))
    except httpcore.TimeoutException as exc:
        raise FetchFailed("timeout", f"No answer in time from {target.host}.") from exc
    except httpcore.ConnectError as exc:
        raise FetchFailed("connect_failed", f"Could not connect to {target.host}.") from exc
    except (httpcore.ProtocolError, httpcore.NetworkError) as exc:
        raise FetchFailed("network_error", f"The connection to {target.host} failed.") from exc
    except httpcore.UnsupportedProtocol as exc:
        raise UrlRefused("bad_scheme", str(exc)) from exc
    finally:
        pool.close()
