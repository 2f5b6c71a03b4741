"""The Discord REST client and the submitter against the simulator over loopback: command lookup, a command
re-registered under our feet (50035 INVALID_VERSION), attachment uploads, 429 Retry-After and 5xx retries."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image
from pydantic import SecretStr

from mjapi.discord.commands import CommandCatalog
from mjapi.discord.rest import DiscordError, DiscordRest
from mjapi.models import APPLICATION_IDS, Account, AccountConfig, Bot, Job, JobKind
from mjapi.service.submitter import SubmitFailure, Submitter
from simulator import MIDJOURNEY_APP_ID, SimulatorThread


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(seed=7, speed=200.0, image_scale=0.25) as running:
        yield running


@pytest.fixture
def account(sim: SimulatorThread) -> Any:
    return sim.add_account()


class SleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _rest(sim: SimulatorThread, token: str, sleep: SleepRecorder | None = None) -> DiscordRest:
    return DiscordRest(token, base_url=sim.urls.rest, sleep=sleep or SleepRecorder(), max_retries=3)


def _wait_for_message(sim: SimulatorThread, channel_id: str, match: Any, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in sim.messages(channel_id) if match(m)]
        if found:
            return dict(found[-1])
        time.sleep(0.05)
    raise AssertionError("the bot never posted the expected message")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (9, 99, 199)).save(out, format="PNG")
    return out.getvalue()


def test_identity_and_gateway_discovery(sim: SimulatorThread, account: Any) -> None:
    with _rest(sim, account.token) as rest:
        me = rest.request("GET", "/users/@me").json()
        assert me["id"] == account.user_id
        assert rest.gateway_url().startswith("ws://")
    with _rest(sim, "not-a-token") as rest, pytest.raises(DiscordError) as caught:
        rest.request("GET", "/users/@me")
    assert caught.value.unauthorized
    assert "not-a-token" not in str(caught.value)


def test_command_lookup_finds_current_versions(sim: SimulatorThread, account: Any) -> None:
    catalog = CommandCatalog()
    with _rest(sim, account.token) as rest:
        ref = catalog.get(
            rest,
            application_id=MIDJOURNEY_APP_ID,
            name="imagine",
            guild_id=account.guild_id,
            channel_id=account.channel_id,
        )
    assert ref.version == sim.command_version("midjourney", "imagine")
    assert ref.application_id == MIDJOURNEY_APP_ID


def test_a_burst_of_first_lookups_asks_discord_once(sim: SimulatorThread, account: Any) -> None:
    """A cold container (or a restarted relay) with many requests at once fetches the command index once per
    scope: each fetch counts against the account's Discord limits. A refresh (stale version) fetches again."""
    fetched: list[float] = []

    class CountingRest(DiscordRest):
        def command_index(self, *, guild_id: str | None, channel_id: str) -> list[dict[str, Any]]:
            fetched.append(time.monotonic())
            return super().command_index(guild_id=guild_id, channel_id=channel_id)

    catalog = CommandCatalog()
    rest = CountingRest(account.token, base_url=sim.urls.rest, sleep=SleepRecorder(), max_retries=3)
    start = threading.Barrier(12)

    def lookup(_: int) -> str:
        start.wait()
        return catalog.get(
            rest,
            application_id=MIDJOURNEY_APP_ID,
            name="imagine",
            guild_id=account.guild_id,
            channel_id=account.channel_id,
        ).version

    with ThreadPoolExecutor(max_workers=12) as pool:
        versions = set(pool.map(lookup, range(12)))
    assert versions == {sim.command_version("midjourney", "imagine")}
    assert len(fetched) == 1
    kwargs: dict[str, Any] = {"guild_id": account.guild_id, "channel_id": account.channel_id}
    catalog.get(rest, application_id=MIDJOURNEY_APP_ID, name="imagine", refresh=True, **kwargs)
    assert len(fetched) == 2
    rest.close()


def _config(account: Any) -> AccountConfig:
    return AccountConfig(
        id=account.username, token=SecretStr(account.token), channel_id=account.channel_id, guild_id=account.guild_id
    )


def _state(account: Any) -> Account:
    return Account(
        id=account.username,
        channel_id=account.channel_id,
        guild_id=account.guild_id,
        session_id="0123456789abcdef0123456789abcdef",
    )


def _submitter(sim: SimulatorThread, catalog: CommandCatalog, sleep: SleepRecorder | None = None) -> Submitter:
    return Submitter(rest_factory=lambda cfg: _rest(sim, cfg.token.get_secret_value(), sleep), catalog=catalog)


def test_stale_command_version_is_refreshed_and_retried(sim: SimulatorThread, account: Any) -> None:
    catalog = CommandCatalog()
    submitter = _submitter(sim, catalog)
    job = Job(id="j1", kind=JobKind.IMAGINE, prompt="a violin made of glass", nonce="1234567890123456789")
    submitter.send(job, _state(account), _config(account))  # warms the cache
    old = sim.command_version("midjourney", "imagine")
    new = sim.bump_command("midjourney", "imagine")
    assert new != old
    second = job.model_copy(update={"id": "j2", "nonce": "1234567890123456790"})
    submitter.send(second, _state(account), _config(account))  # 50035 -> refresh -> resend
    cached = catalog.get(
        _rest(sim, account.token),
        application_id=MIDJOURNEY_APP_ID,
        name="imagine",
        guild_id=account.guild_id,
        channel_id=account.channel_id,
    )
    assert cached.version == new
    wanted = {"1234567890123456789", "1234567890123456790"}
    deadline = time.monotonic() + 10  # the simulator records a job just after it answers the POST
    while not wanted <= {j.nonce for j in sim.jobs(account)} and time.monotonic() < deadline:
        time.sleep(0.02)
    assert wanted <= {j.nonce for j in sim.jobs(account)}


def test_describe_uploads_the_image_first(sim: SimulatorThread, account: Any, table: Any) -> None:
    from mjapi.images import store_image

    stored = store_image(_png(), prefix="uploads")
    job = Job(
        id="d1",
        kind=JobKind.DESCRIBE,
        bot=Bot.MJ,
        nonce="2234567890123456789",
        options={"upload_key": stored.key, "filename": "tiny.png"},
    )
    _submitter(sim, CommandCatalog()).send(job, _state(account), _config(account))
    # Discord keeps no nonce on stored messages: find the reply by its interaction, then check what was described.
    done = _wait_for_message(
        sim, account.channel_id, lambda m: (m.get("interaction") or {}).get("name") == "describe" and m.get("embeds")
    )
    assert "1️⃣" in done["embeds"][0]["description"]
    assert done["embeds"][0]["image"]["url"].split("?")[0].endswith("/tiny.png")
    assert (done["embeds"][0]["image"]["width"], done["embeds"][0]["image"]["height"]) == (40, 30)


def test_upload_returns_a_usable_filename(sim: SimulatorThread, account: Any) -> None:
    with _rest(sim, account.token) as rest:
        upload = rest.upload(account.channel_id, "tiny.png", _png(), "image/png")
        assert upload.uploaded_filename.endswith("tiny.png")
        attachment = {"id": "0", "filename": upload.filename, "uploaded_filename": upload.uploaded_filename}
        message = rest.request(
            "POST", f"/channels/{account.channel_id}/messages", json={"content": "", "attachments": [attachment]}
        ).json()
    url = message["attachments"][0]["url"]
    assert "ex=" in url and "hm=" in url


def test_429_waits_retry_after_then_succeeds(sim: SimulatorThread, account: Any) -> None:
    sleeps = SleepRecorder()
    sim.fail_requests(count=2, status=429, route="/users/@me", retry_after=0.75, account=account)
    with _rest(sim, account.token, sleeps) as rest:
        assert rest.request("GET", "/users/@me").json()["id"] == account.user_id
    assert sleeps.waits == [0.75, 0.75]


def test_5xx_is_retried_with_backoff_and_then_given_up(sim: SimulatorThread, account: Any) -> None:
    sleeps = SleepRecorder()
    sim.fail_requests(count=1, status=502, route="/users/@me", account=account)
    with _rest(sim, account.token, sleeps) as rest:
        assert rest.request("GET", "/users/@me").json()["id"] == account.user_id
        assert len(sleeps.waits) == 1
        sim.fail_requests(count=10, status=500, route="/users/@me", account=account)
        with pytest.raises(DiscordError) as caught:
            rest.request("GET", "/users/@me")
    assert caught.value.status == 500
    sim.clear_faults()


def test_unknown_message_button_is_a_clear_failure(sim: SimulatorThread, account: Any) -> None:
    job = Job(
        id="b1",
        kind=JobKind.ACTION,
        nonce="3234567890123456789",
        parent_message_id="1111111111111111111",
        custom_id="MJ::JOB::upsample::1::350fb24a-dd72-45f2-ade8-048379a2ed5a",
    )
    with pytest.raises(SubmitFailure) as caught:
        _submitter(sim, CommandCatalog()).send(job, _state(account), _config(account))
    assert caught.value.code == "message_gone"
    assert not caught.value.account_fault
    assert APPLICATION_IDS[Bot.MJ] == MIDJOURNEY_APP_ID
