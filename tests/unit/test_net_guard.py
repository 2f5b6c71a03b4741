"""The shared URL guard (SSRF): refusals by scheme and address, DNS answers checked and pinned, redirects, bounds."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from mjapi.net_guard import FetchFailed, Policy, UrlRefused, check_url, current_policy, fetch, resolve
from simulator.tls import generate_cert
from tests.support.hook_receiver import Receiver, hook_receiver

PUBLIC = Policy()  # nothing but public addresses
LOOPBACK = Policy.parse("127.0.0.0/8, ::1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with hook_receiver() as server:
        yield server


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)", "data:,x", "//a/b"],
)
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(UrlRefused) as err:
        check_url(url, PUBLIC)
    assert err.value.code == "bad_scheme"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.9.9.9:8080/",
        "http://localhost:9000/",
        "http://api.localhost/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.10.1/",
        "http://100.64.0.1/",  # shared address space (CGNAT)
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[ff02::1]/",
    ],
)
def test_private_and_special_addresses_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused) as err:
        check_url(url, PUBLIC)
    assert err.value.code == "forbidden_address"


@pytest.mark.parametrize(
    "url", ["http://", "http://exa mple.com/", "http://user:pw@example.com/", "https://ex$ample.com/", "x" * 3000]
)
def test_malformed_urls(url: str) -> None:
    with pytest.raises(UrlRefused) as err:
        check_url(url, PUBLIC)
    assert err.value.code in ("bad_url", "bad_scheme")


def test_public_urls_pass_the_static_check() -> None:
    target = check_url("https://Hooks.Example.com:8443/a?b=c", PUBLIC)
    assert (target.scheme, target.host, target.port, target.literal) == ("https", "hooks.example.com", 8443, None)
    assert check_url("http://93.184.216.34/", PUBLIC).literal == ipaddress.ip_address("93.184.216.34")
    assert check_url("http://[2606:4700::1111]/", PUBLIC).port == 80


def test_allow_list_opens_networks_and_hosts_but_metadata_only_by_name() -> None:
    policy = Policy.parse("10.0.0.0/8, hooks.internal, 169.254.0.0/16, ::1")
    assert check_url("http://10.2.3.4/", policy).host == "10.2.3.4"
    assert check_url("http://[::1]:81/", policy).port == 81
    assert check_url("http://HOOKS.internal/", policy).host == "hooks.internal"
    assert check_url("http://169.254.10.1/", policy).host == "169.254.10.1"
    with pytest.raises(UrlRefused):
        check_url("http://169.254.169.254/", policy)  # a covering network is not enough for the metadata address
    with pytest.raises(UrlRefused):
        check_url("http://192.168.0.1/", policy)
    assert check_url("http://169.254.169.254/", Policy.parse("169.254.169.254/32")).port == 80


def test_policy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "127.0.0.0/8")
    assert check_url("http://127.0.0.1:1/").literal is not None
    monkeypatch.setenv("MJAPI_URL_ALLOWLIST", "")
    assert current_policy() == Policy()
    with pytest.raises(UrlRefused):
        check_url("http://127.0.0.1:1/")


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    target = check_url("https://hooks.example.com/x", PUBLIC)
    with pytest.raises(UrlRefused) as err:
        resolve(target, PUBLIC, lambda host, port: ["10.0.0.7"])
    assert err.value.code == "forbidden_address"
    # one bad answer among good ones refuses the name (DNS rebinding via several records)
    with pytest.raises(UrlRefused):
        resolve(target, PUBLIC, lambda host, port: ["93.184.216.34", "::1"])
    assert str(resolve(target, PUBLIC, lambda host, port: ["93.184.216.34"])) == "93.184.216.34"


def test_a_name_that_does_not_resolve_is_a_fetch_failure() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(FetchFailed) as err:
        resolve(check_url("https://nowhere.example/", PUBLIC), PUBLIC, fail)
    assert err.value.code == "dns_failed"


def test_loopback_receiver_is_refused_unless_allowed(receiver: Receiver) -> None:
    with pytest.raises(UrlRefused):
        fetch("POST", f"{receiver.url}/hook", content=b"{}", policy=PUBLIC)
    assert receiver.requests == []
    result = fetch("POST", f"{receiver.url}/hook", content=b'{"a":1}', policy=LOOPBACK)
    assert result.ok
    assert result.body == b"ok"
    assert receiver.requests[0].body == b'{"a":1}'


def test_connects_to_the_checked_address_without_a_second_lookup(receiver: Receiver) -> None:
    """The name exists only in our resolver: if the HTTP client looked it up again, the request could not be sent."""
    port = receiver.server_address[1]
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    result = fetch("POST", f"http://hooks.test:{port}/in", content=b"x", policy=LOOPBACK, resolver=resolver)
    assert result.ok
    assert result.address == "127.0.0.1"
    assert lookups == ["hooks.test"]
    assert receiver.requests[0].headers["host"] == f"hooks.test:{port}"


def test_redirects_are_not_followed_by_default(receiver: Receiver) -> None:
    result = fetch("POST", f"{receiver.url}/redirect?to=http://10.0.0.1/steal", content=b"x", policy=LOOPBACK)
    assert result.is_redirect
    assert result.headers["location"] == "http://10.0.0.1/steal"
    assert len(receiver.requests) == 1


def test_a_followed_redirect_to_a_private_address_is_refused(receiver: Receiver) -> None:
    with pytest.raises(UrlRefused) as err:
        fetch("GET", f"{receiver.url}/redirect?to=http://10.0.0.1/steal", policy=LOOPBACK, max_redirects=3)
    assert err.value.code == "forbidden_address"
    with pytest.raises(UrlRefused):
        fetch("GET", f"{receiver.url}/redirect?to=http://169.254.169.254/", policy=LOOPBACK, max_redirects=3)
    with pytest.raises(UrlRefused) as scheme:
        fetch("GET", f"{receiver.url}/redirect?to=file:///etc/passwd", policy=LOOPBACK, max_redirects=3)
    assert scheme.value.code == "bad_scheme"


def test_a_followed_redirect_to_an_allowed_address_is_fetched(receiver: Receiver) -> None:
    result = fetch("GET", f"{receiver.url}/redirect?to={receiver.url}/final", policy=LOOPBACK, max_redirects=1)
    assert result.ok
    assert result.url.endswith("/final")
    assert [r.path for r in receiver.requests] == ["/redirect", "/final"]


def test_response_bodies_are_bounded(receiver: Receiver) -> None:
    with pytest.raises(FetchFailed) as err:
        fetch("GET", f"{receiver.url}/big", policy=LOOPBACK, max_body=10_000)
    assert err.value.code == "body_too_large"


def test_a_trickling_server_hits_the_total_deadline(receiver: Receiver) -> None:
    """Each byte arrives well within the read timeout; only the overall deadline stops the request."""
    with pytest.raises(FetchFailed) as err:
        fetch("GET", f"{receiver.url}/slow", policy=LOOPBACK, total_timeout=0.5)
    assert err.value.code == "timeout"


def test_a_closed_port_is_a_connect_failure() -> None:
    with hook_receiver() as gone:
        url = gone.url
    with pytest.raises(FetchFailed) as err:
        fetch("GET", url, policy=LOOPBACK)
    assert err.value.code == "connect_failed"


def test_https_to_the_pinned_address_verifies_the_certificate_for_the_url_host(tmp_path: Path) -> None:
    """TLS goes to the checked address yet verifies (and sends SNI for) the URL's host name."""
    cert = generate_cert(tmp_path / "good", ["hooks.test"])
    with hook_receiver(tls=cert.server_context()) as server:
        url = f"https://hooks.test:{server.server_address[1]}/in"
        result = fetch(
            "POST",
            url,
            content=b"{}",
            policy=LOOPBACK,
            resolver=lambda h, p: ["127.0.0.1"],
            ssl_context=cert.client_context(),
        )
        assert result.ok
        assert server.requests[0].headers["host"] == f"hooks.test:{server.server_address[1]}"
    wrong = generate_cert(tmp_path / "wrong", ["other.test"])
    with hook_receiver(tls=wrong.server_context()) as server:
        url = f"https://hooks.test:{server.server_address[1]}/in"
        with pytest.raises(FetchFailed):
            fetch("POST", url, policy=LOOPBACK, resolver=lambda h, p: ["127.0.0.1"], ssl_context=wrong.client_context())
        assert server.requests == []
