"""The /mj/* face through the Lambda handler against moto: auth, every submit code (1, 3, 4, 9, 21, 22, 23), the
MODAL placeholder and its form, mode prefixes and accountFilter, the task lists, and one job seen by both faces.

Discord itself is replaced by a submitter that accepts every interaction (the relay's side is covered end to end in
tests/e2e/test_proxy_api.py); everything else is the real code on real moto."""

from __future__ import annotations

import base64
import importlib
import io
import json
from typing import Any

import pytest
from PIL import Image

from mjapi import aws
from mjapi.clock import now_ms
from mjapi.ids import hash_token, new_job_id
from mjapi.midjourney.actions import ButtonAction
from mjapi.midjourney.custom_ids import render_custom_id
from mjapi.models import Button, Health, Job, JobKind, JobStatus, Mode
from mjapi.models import Image as StoredImage
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.service.submitter import Submitter
from mjapi.settings import get_settings
from mjapi.store.accounts import get_account, set_health, set_session, set_settings, sync_accounts
from mjapi.store.jobs import JobStore, job_item
from mjapi.store.table import Table
from mjapi.store.tokens import get_token
from tests.support.apigw import ApiClient, ApiResponse

ADMIN = "admin-key-for-proxy-tests-0123456789"
HASH = "350fb24a-dd72-45f2-ade8-048379a2ed5a"
ACCOUNTS = [
    {"id": "acc-fast", "token": "t-fast", "channel_id": "111", "guild_id": "900", "mode": "fast", "concurrency": 12},
    {"id": "acc-relax", "token": "t-relax", "channel_id": "222", "guild_id": "900", "mode": "relax", "concurrency": 1},
]


class AcceptingSubmitter(Submitter):
    """Discord accepts every interaction (nothing is sent anywhere)."""

    def send(self, job: Any, account: Any, config: Any) -> None:
        return None


@pytest.fixture
def api(table: Table, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"admin_key": ADMIN, "accounts": ACCOUNTS}))
    monkeypatch.setenv("MJAPI_QUEUE_LIMIT", "2")
    monkeypatch.setenv("MJAPI_SWITCH_WAIT_SECONDS", "0.2")
    monkeypatch.setattr("mjapi.service.context.Submitter", AcceptingSubmitter)
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    for account in get_secrets().accounts:
        set_session(table, account.id, f"session-{account.id}")
    module: Any = importlib.import_module("functions.api.app")
    return ApiClient(module.lambda_handler)


def _token(api: ApiClient, count: int = 20) -> str:
    resp = api.get("/midjourney/create_token", query={"count": count, "days": 1}, headers={"x-admin-key": ADMIN})
    assert resp.status == 200
    return str(resp.json()["token"])


def _post(api: ApiClient, token: str, path: str, body: Any) -> dict[str, Any]:
    resp = api.post(path, json_body=body, headers={"mj-api-secret": token})
    assert resp.status == 200, resp.text
    found: dict[str, Any] = resp.json()
    assert set(found) == {"code", "description", "result", "properties"}, found
    assert isinstance(found["code"], int) and isinstance(found["description"], str)
    assert found["result"] is None or isinstance(found["result"], str | list)
    return found


def _get(api: ApiClient, token: str, path: str) -> ApiResponse:
    return api.get(path, headers={"mj-api-secret": token})


def _png(size: tuple[int, int] = (32, 24), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _grid_buttons() -> list[list[Button]]:
    ups = [Button(label=f"U{i}", custom_id=render_custom_id(ButtonAction.UPSAMPLE, index=i, hash=HASH)) for i in (1, 2)]
    vs = [Button(label=f"V{i}", custom_id=render_custom_id(ButtonAction.VARIATION, index=i, hash=HASH)) for i in (1, 2)]
    reroll = Button(emoji="🔄", custom_id=render_custom_id(ButtonAction.REROLL, index=0, hash=HASH, solo=True))
    return [ups, [*vs, reroll]]


def _single_buttons() -> list[list[Button]]:
    return [
        [
            Button(label="Vary (Region)", custom_id=render_custom_id(ButtonAction.VARY_REGION, index=1, hash=HASH)),
            Button(label="Custom Zoom", custom_id=render_custom_id(ButtonAction.CUSTOM_ZOOM, hash=HASH)),
            Button(emoji="⬅️", custom_id=render_custom_id(ButtonAction.PAN, direction="left", index=1, hash=HASH)),
        ]
    ]


def _finished(table: Table, token: str, *, single: bool = False, account: str = "acc-fast", **extra: Any) -> Job:
    """A job as the relay leaves it once Midjourney has answered (a grid, or an upscaled single image)."""
    now = now_ms()
    job = Job(
        id=new_job_id(),
        kind=JobKind.ACTION if single else JobKind.IMAGINE,
        status=JobStatus.SUCCEEDED,
        token_hash=hash_token(token),
        prompt="a red fox",
        final_prompt="a red fox --v 6.1",
        account_id=account,
        channel_id="111",
        result_message_id="5550001",
        message_hash=HASH,
        custom_id=render_custom_id(ButtonAction.UPSAMPLE, index=1, hash=HASH) if single else None,
        parent_id="1" if single else None,
        created_at=now,
        submitted_at=now,
        finished_at=now,
        progress=100,
        images=[StoredImage(url="https://cdn.test.invalid/images/ab/abc.png", key="images/ab/abc.png")],
        buttons=_single_buttons() if single else _grid_buttons(),
        **extra,
    )
    table.put(job_item(job))
    return job


def _remaining(table: Table, token: str) -> int:
    stored = get_token(table, hash_token(token))
    assert stored is not None
    return stored.remaining


# -- auth ------------------------------------------------------------------------------------------------------------


def test_the_secret_is_an_mjapi_token_in_mj_api_secret_or_authorization(api: ApiClient) -> None:
    token = _token(api)
    for headers in (
        {"mj-api-secret": token},
        {"Mj-Api-Secret": token},
        {"Authorization": f"Bearer {token}"},
        {"Authorization": token},
    ):
        resp = api.get("/mj/task/list", headers=headers)
        assert resp.status == 200, (headers, resp.text)
        assert resp.json() == []
    for headers in ({}, {"mj-api-secret": "mjk_wrong"}, {"Authorization": "Bearer nope"}, {"x-admin-key": ADMIN}):
        for method, path, body in (
            ("GET", "/mj/task/list", None),
            ("GET", "/mj/task/123/fetch", None),
            ("POST", "/mj/submit/imagine", {"prompt": "a cat"}),
            ("POST", "/mj/task/list-by-condition", {"ids": ["1"]}),
            ("POST", "/mj-relax/mj/submit/imagine", {"prompt": "a cat"}),
        ):
            resp = api.call(method, path, headers=headers, json_body=body)
            assert resp.status == 401, (headers, path, resp.text)


def test_a_token_without_uses_left_gets_a_code_not_a_charge(api: ApiClient, table: Table) -> None:
    token = _token(api, count=1)
    assert _post(api, token, "/mj/submit/imagine", {"prompt": "one"})["code"] == 1
    refused = _post(api, token, "/mj/submit/imagine", {"prompt": "two"})
    assert refused["code"] == 4 and "no uses left" in refused["description"]
    assert _remaining(table, token) == 0


# -- imagine, codes ----------------------------------------------------------------------------------------------------


def test_imagine_answers_code_1_with_a_string_id_and_the_task_reads_back(api: ApiClient, table: Table) -> None:
    token = _token(api)
    hook = "https://example.com/hook"
    found = _post(
        api,
        token,
        "/mj/submit/imagine",
        {"prompt": "a red fox --v 6.1", "botType": "NIJI_JOURNEY", "state": "s-1", "notifyHook": hook},
    )
    assert found["code"] == 1 and found["description"] == "Submitted"
    assert isinstance(found["result"], str) and found["result"].isdigit()
    assert found["properties"]["discordInstanceId"] in ("acc-fast", "acc-relax")
    job = JobStore(table).get(found["result"])
    assert job is not None
    assert (job.api, job.notify_hook, job.state, job.bot.value) == ("mj", hook, "s-1", "niji")
    task = _get(api, token, f"/mj/task/{job.id}/fetch").json()
    assert task["id"] == job.id and task["status"] == "SUBMITTED" and task["progress"] == "0%"
    assert task["action"] == "IMAGINE" and task["botType"] == "NIJI_JOURNEY" and task["state"] == "s-1"
    assert task["description"] == "/imagine a red fox --v 6.1"
    assert _remaining(table, token) == 19


BAD_IMAGINES: list[tuple[Any, str]] = [
    ({}, "prompt"),
    ({"prompt": ""}, "prompt"),
    ({"prompt": 42}, "prompt"),
    ({"prompt": "a cat", "botType": "DALL_E"}, "botType"),
    ({"prompt": "a cat --bogus 3"}, "bogus"),
    ({"prompt": "a cat", "base64Array": ["data:image/png;base64,@@@"]}, "base64"),
    ({"prompt": "a cat", "base64Array": [_data_url(b"not an image")]}, "image"),
    ({"prompt": "a cat", "accountFilter": {"modes": ["SLOW"]}}, "modes"),
    ({"prompt": "a cat", "accountFilter": {"instanceId": "nobody"}}, "nobody"),
    ({"prompt": "a cat --relax", "accountFilter": {"modes": ["FAST"]}}, "relax"),
    ({"prompt": "a cat", "state": "x" * 256}, "state"),
    ([1, 2], "dictionary"),
    ("prompt", "dictionary"),
]


def test_bad_submissions_are_code_4_and_free(api: ApiClient, table: Table) -> None:
    token = _token(api)
    for body, words in BAD_IMAGINES:
        found = _post(api, token, "/mj/submit/imagine", body)
        assert found["code"] == 4, (body, found)
        assert words.lower() in found["description"].lower(), (body, found)
        assert found["result"] is None
    assert _remaining(table, token) == 20


def test_image_prompts_go_to_our_cdn_and_lead_the_prompt(api: ApiClient, table: Table) -> None:
    token = _token(api)
    first, second = _png(color=(1, 2, 3)), _png(color=(4, 5, 6))
    found = _post(
        api, token, "/mj/submit/imagine", {"prompt": "a cat", "base64Array": [_data_url(first), _data_url(second)]}
    )
    assert found["code"] == 1
    job = JobStore(table).get(found["result"])
    assert job is not None
    urls = job.prompt.split(" ")[:2]
    assert all(u.startswith("https://cdn.test.invalid/uploads/") for u in urls)
    assert job.prompt.endswith(" a cat")
    for url, data in zip(urls, (first, second), strict=True):
        key = url.removeprefix("https://cdn.test.invalid/")
        body = aws.client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)["Body"].read()
        assert body == data


def test_queued_is_22_with_the_position_and_a_full_queue_23(api: ApiClient, table: Table) -> None:
    token = _token(api)
    for account in ("acc-fast", "acc-relax"):
        set_health(table, account, Health.CAPTCHA, "test")
    first = _post(api, token, "/mj/submit/imagine", {"prompt": "one"})
    second = _post(api, token, "/mj/submit/imagine", {"prompt": "two"})
    assert (first["code"], second["code"]) == (22, 22)
    assert first["properties"]["numberOfQueues"] == 0 and second["properties"]["numberOfQueues"] == 1
    assert "1" in second["description"]
    full = _post(api, token, "/mj/submit/imagine", {"prompt": "three"})
    assert full["code"] == 23 and full["result"] is None
    queue = _get(api, token, "/mj/task/queue").json()
    assert [t["id"] for t in queue] == [first["result"], second["result"]]
    assert {t["status"] for t in queue} == {"NOT_START"}
    assert _get(api, _token(api), "/mj/task/queue").json() == []  # only the caller's
    assert _remaining(table, token) == 18


def test_a_token_over_its_fair_share_is_told_to_try_later_with_23(
    api: ApiClient, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MJAPI_MAX_ACTIVE_PER_TOKEN", "1")
    get_settings.cache_clear()
    token = _token(api)
    assert _post(api, token, "/mj/submit/imagine", {"prompt": "one"})["code"] == 1
    busy = _post(api, token, "/mj/submit/imagine", {"prompt": "two"})
    assert busy["code"] == 23 and busy["result"] is None and busy["properties"]["reason"] == "token_busy"
    assert _remaining(table, token) == 19


def test_no_account_for_the_mode_is_9_never_3(api: ApiClient) -> None:
    token = _token(api)
    found = _post(api, token, "/mj-turbo/mj/submit/imagine", {"prompt": "a cat"})
    assert found["code"] == 9 and "turbo" in found["description"]


def test_mode_prefixes_pick_the_account_mode(api: ApiClient, table: Table) -> None:
    token = _token(api)
    for path, mode in (
        ("/mj/submit/imagine", None),
        ("/mj-relax/mj/submit/imagine", Mode.RELAX),
        ("/relax/mj/submit/imagine", Mode.RELAX),
        ("/mj-fast/mj/submit/imagine", Mode.FAST),
        ("/fast/mj/submit/imagine", Mode.FAST),
    ):
        found = _post(api, token, path, {"prompt": "a cat"})
        assert found["code"] == 1, (path, found)
        job = JobStore(table).get(found["result"])
        assert job is not None and job.mode == mode, path
        if mode is not None:
            account = get_account(table, job.account_id or "")
            assert account is not None and account.mode == mode
            fetched = _get(api, token, f"{path.split('/submit')[0]}/task/{job.id}/fetch").json()
            assert fetched["id"] == job.id
            JobStore(table).finish(job, JobStatus.SUCCEEDED)  # frees the relax account's one slot


def test_account_filter_modes_and_instance(api: ApiClient, table: Table) -> None:
    token = _token(api)
    relax = _post(api, token, "/mj/submit/imagine", {"prompt": "a", "accountFilter": {"modes": ["TURBO", "RELAX"]}})
    job = JobStore(table).get(relax["result"])
    assert job is not None and job.mode == Mode.RELAX and job.account_id == "acc-relax"
    pinned = _post(api, token, "/mj/submit/imagine", {"prompt": "b", "accountFilter": {"instanceId": "acc-fast"}})
    assert pinned["code"] == 1 and pinned["properties"]["discordInstanceId"] == "acc-fast"
    fast_only = {"prompt": "c", "accountFilter": {"instanceId": "acc-fast"}}
    clash = _post(api, token, "/mj-relax/mj/submit/imagine", fast_only)
    assert clash["code"] == 4 and "fast" in clash["description"]


# -- tasks -----------------------------------------------------------------------------------------------------------


def test_fetch_of_an_unknown_or_foreign_task_is_200_null(api: ApiClient, table: Table) -> None:
    owner, stranger = _token(api), _token(api)
    job = _finished(table, owner)
    assert _get(api, owner, f"/mj/task/{job.id}/fetch").json()["status"] == "SUCCESS"
    for token, task_id in ((stranger, job.id), (owner, "123"), (owner, "x" * 80)):
        resp = _get(api, token, f"/mj/task/{task_id}/fetch")
        assert resp.status == 200 and resp.json() is None


def test_list_by_condition_and_ids_give_only_the_callers_known_tasks(api: ApiClient, table: Table) -> None:
    owner, stranger = _token(api), _token(api)
    mine = [_finished(table, owner) for _ in range(3)]
    theirs = _finished(table, stranger)
    ids = [mine[2].id, "404", theirs.id, mine[0].id, 12345]
    for path in ("/mj/task/list-by-condition", "/mj/task/list-by-ids", "/mj-fast/mj/task/list-by-condition"):
        resp = api.post(path, json_body={"ids": ids}, headers={"mj-api-secret": owner})
        assert resp.status == 200, resp.text
        assert [t["id"] for t in resp.json()] == [mine[2].id, mine[0].id]
    for body in ({"ids": None}, {"ids": []}, {}):
        assert api.post("/mj/task/list-by-condition", json_body=body, headers={"mj-api-secret": owner}).json() == []
    bad = api.post("/mj/task/list-by-condition", json_body={"ids": "nope"}, headers={"mj-api-secret": owner})
    assert bad.status == 400


def test_task_list_is_the_callers_newest_first(api: ApiClient, table: Table) -> None:
    owner, stranger = _token(api), _token(api)
    ids = [_post(api, owner, "/mj/submit/imagine", {"prompt": f"cat {n}"})["result"] for n in range(3)]
    _post(api, stranger, "/mj/submit/imagine", {"prompt": "not yours"})
    listed = _get(api, owner, "/mj/task/list").json()
    assert [t["id"] for t in listed] == list(reversed(ids))


def test_image_seed(api: ApiClient, table: Table) -> None:
    token = _token(api)
    known = _finished(table, token, info={"seed": 1234567})
    found = _post_get(api, token, f"/mj/task/{known.id}/image-seed")
    assert found == {"code": 1, "description": "Success", "result": "1234567", "properties": {}}
    running = _post(api, token, "/mj/submit/imagine", {"prompt": "a cat"})["result"]
    assert _post_get(api, token, f"/mj/task/{running}/image-seed")["code"] == 4
    assert _post_get(api, token, "/mj/task/404/image-seed")["code"] == 4


def _post_get(api: ApiClient, token: str, path: str) -> dict[str, Any]:
    resp = _get(api, token, path)
    assert resp.status == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


def test_cancel_a_queued_task_refunds_it(api: ApiClient, table: Table) -> None:
    token = _token(api)
    for account in ("acc-fast", "acc-relax"):
        set_health(table, account, Health.CAPTCHA, "test")
    queued = _post(api, token, "/mj/submit/imagine", {"prompt": "one"})["result"]
    assert _remaining(table, token) == 19
    done = _post(api, token, f"/mj/task/{queued}/cancel", None)
    assert done["code"] == 1 and done["properties"]["status"] == "CANCEL"
    assert _remaining(table, token) == 20
    task = _get(api, token, f"/mj/task/{queued}/fetch").json()
    assert task["status"] == "CANCEL" and task["failReason"] and task["progress"] == ""
    again = _post(api, token, f"/mj/task/{queued}/cancel", {})
    assert again["code"] == 4
    assert _post(api, _token(api), f"/mj/task/{queued}/cancel", {})["code"] == 4  # not yours: no such task


def test_upload_discord_images_gives_cdn_urls(api: ApiClient) -> None:
    token = _token(api)
    found = _post(api, token, "/mj/submit/upload-discord-images", {"base64Array": [_data_url(_png())]})
    assert found["code"] == 1
    [url] = found["result"]
    assert url.startswith("https://cdn.test.invalid/uploads/") and url.endswith(".png")
    assert _post(api, token, "/mj/submit/upload-discord-images", {"base64Array": ["nope"]})["code"] == 4


# -- describe, blend, shorten ------------------------------------------------------------------------------------------


def test_describe_blend_and_shorten(api: ApiClient, table: Table) -> None:
    token = _token(api)
    store = JobStore(table)
    described = _post(api, token, "/mj/submit/describe", {"base64": _data_url(_png())})
    assert described["code"] == 1
    job = store.get(described["result"])
    assert job is not None and job.kind == JobKind.DESCRIBE and job.api == "mj"
    assert (job.upload_url or "").startswith("https://cdn.test.invalid/uploads/")
    linked = _post(api, token, "/mj/submit/describe", {"link": "https://example.com/cat.png"})
    assert linked["code"] == 1
    assert _post(api, token, "/mj/submit/describe", {})["code"] == 4
    assert _post(api, token, "/mj/submit/describe", {"link": "ftp://example.com/x.png"})["code"] == 4
    # links pass the same URL guard as on the original face: no loopback, private or metadata addresses
    for link in ("http://127.0.0.1:8000/x.png", "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/a.png"):
        refused = _post(api, token, "/mj/submit/describe", {"link": link})
        assert refused["code"] == 4 and refused["properties"]["reason"] == "invalid_link", refused
    refused = _post(api, token, "/mj/submit/imagine", {"prompt": "http://192.168.1.9/cat.png a cat in the style"})
    assert refused["code"] == 4 and refused["properties"]["reason"] == "invalid_image_url", refused

    images = [_data_url(_png(color=(n, n, n))) for n in (10, 20, 30)]
    blended = _post(api, token, "/mj-relax/mj/submit/blend", {"base64Array": images, "dimensions": "PORTRAIT"})
    assert blended["code"] == 1
    blend = store.get(blended["result"])
    assert blend is not None and blend.kind == JobKind.BLEND and blend.mode == Mode.RELAX
    assert blend.options["dimensions"] == "--ar 2:3" and len(blend.options["upload_keys"]) == 3
    assert _post(api, token, "/mj/submit/blend", {"base64Array": images[:1]})["code"] == 4
    assert _post(api, token, "/mj/submit/blend", {"base64Array": images, "dimensions": "ROUND"})["code"] == 4

    shortened = _post(api, token, "/mj/submit/shorten", {"prompt": "a very very long prompt about a cat"})
    assert shortened["code"] in (1, 22)  # the slots are taken by now
    task = _get(api, token, f"/mj/task/{shortened['result']}/fetch").json()
    assert task["action"] == "SHORTEN"


# -- buttons -----------------------------------------------------------------------------------------------------------


def test_action_presses_a_button_and_names_missing_parents_with_3(api: ApiClient, table: Table) -> None:
    owner, stranger = _token(api), _token(api)
    grid = _finished(table, owner)
    u1 = grid.buttons[0][0].custom_id
    found = _post(api, owner, "/mj/submit/action", {"taskId": grid.id, "customId": u1, "state": "st"})
    assert found["code"] == 1
    child = JobStore(table).get(found["result"])
    assert child is not None
    assert (child.parent_id, child.custom_id, child.api, child.state) == (grid.id, u1, "mj", "st")
    task = _get(api, owner, f"/mj/task/{child.id}/fetch").json()
    assert task["action"] == "UPSCALE" and task["description"] == f"/up {grid.id} U1"
    assert _post(api, owner, "/mj/submit/action", {"taskId": int(grid.id), "customId": u1})["code"] == 1
    for token, task_id in ((owner, "404"), (stranger, grid.id)):
        missing = _post(api, token, "/mj/submit/action", {"taskId": task_id, "customId": u1})
        assert missing["code"] == 3, missing
    unknown = _post(api, owner, "/mj/submit/action", {"taskId": grid.id, "customId": "MJ::JOB::nope::1"})
    assert unknown["code"] == 4
    JobStore(table).update_fields(grid.id, {"status": JobStatus.RUNNING.value})
    assert _post(api, owner, "/mj/submit/action", {"taskId": grid.id, "customId": u1})["code"] == 4


def test_change_and_simple_change(api: ApiClient, table: Table) -> None:
    token = _token(api)
    grid = _finished(table, token)
    store = JobStore(table)
    cases = [
        ("/mj/submit/change", {"taskId": grid.id, "action": "UPSCALE", "index": 2}, ButtonAction.UPSAMPLE, 2),
        ("/mj/submit/change", {"taskId": grid.id, "action": "VARIATION", "index": 1}, ButtonAction.VARIATION, 1),
        ("/mj/submit/change", {"taskId": grid.id, "action": "REROLL"}, ButtonAction.REROLL, 0),
        ("/mj/submit/simple-change", {"content": f"{grid.id} U1"}, ButtonAction.UPSAMPLE, 1),
        ("/mj/submit/simple-change", {"content": f"{grid.id} v2"}, ButtonAction.VARIATION, 2),
        ("/mj/submit/simple-change", {"content": f"{grid.id} R"}, ButtonAction.REROLL, 0),
    ]
    for path, body, action, index in cases:
        found = _post(api, token, path, body)
        assert found["code"] == 1, (body, found)
        child = store.get(found["result"])
        assert child is not None and (child.action, child.index) == (action.value, index), body
    bad = [
        ("/mj/submit/change", {"taskId": grid.id, "action": "UPSCALE"}, 4),
        ("/mj/submit/change", {"taskId": grid.id, "action": "UPSCALE", "index": 4}, 4),  # this grid has U1, U2
        ("/mj/submit/change", {"taskId": grid.id, "action": "ZOOM", "index": 1}, 4),
        ("/mj/submit/change", {"taskId": "404", "action": "UPSCALE", "index": 1}, 3),
        ("/mj/submit/simple-change", {"content": f"{grid.id} U9"}, 4),
        ("/mj/submit/simple-change", {"content": "U1"}, 4),
        ("/mj/submit/simple-change", {"content": "404 U1"}, 3),
    ]
    for path, body, code in bad:
        assert _post(api, token, path, body)["code"] == code, body
    single = _finished(table, token, single=True)
    upscaled = _post(api, token, "/mj/submit/change", {"taskId": single.id, "action": "UPSCALE", "index": 1})
    assert upscaled["code"] == 4  # change works on grids only


def test_forms_make_a_modal_task_that_the_modal_route_continues(api: ApiClient, table: Table) -> None:
    token = _token(api)
    single = _finished(table, token, single=True)
    zoom_id, region_id = single.buttons[0][1].custom_id, single.buttons[0][0].custom_id
    store = JobStore(table)

    waiting = _post(
        api,
        token,
        "/mj/submit/action",
        {"taskId": single.id, "customId": zoom_id, "notifyHook": "https://hooks.example.com/h"},
    )
    assert waiting["code"] == 21 and waiting["description"] == "Waiting for window confirm"
    assert waiting["properties"]["remix"] is True and waiting["properties"]["finalPrompt"] == "a red fox --v 6.1"
    assert waiting["properties"]["status"] == "MODAL" and waiting["properties"]["imageUrl"] == single.images[0].url
    modal_id = waiting["result"]
    task = _get(api, token, f"/mj/task/{modal_id}/fetch").json()
    assert task["status"] == "MODAL" and task["action"] == "CUSTOM_ZOOM" and task["progress"] == "0%"
    assert _remaining(table, token) == 20  # a form that waits costs nothing
    account = get_account(table, "acc-fast")
    assert account is not None and account.slots_used == 0

    no_zoom = _post(api, token, "/mj/submit/modal", {"taskId": modal_id})
    assert no_zoom["code"] == 4 and "--zoom" in no_zoom["description"]
    bad_zoom = _post(api, token, "/mj/submit/modal", {"taskId": modal_id, "prompt": "a fox --zoom 3"})
    assert bad_zoom["code"] == 4
    assert _post(api, token, "/mj/submit/modal", {"taskId": "404", "prompt": "x --zoom 1.5"})["code"] == 3
    done = _post(api, token, "/mj/submit/modal", {"taskId": modal_id, "prompt": "a fox in snow --zoom 1.5"})
    assert done["code"] == 1 and done["result"] == modal_id
    job = store.get(modal_id)
    assert (
        job is not None
        and job.status == JobStatus.SUBMITTED
        and job.api == "mj"
        and job.notify_hook == "https://hooks.example.com/h"
    )
    assert job.options["prompt"] == "a fox in snow --zoom 1.5"
    assert _remaining(table, token) == 19
    assert modal_id in (store.get(single.id) or single).children
    again = _post(api, token, "/mj/submit/modal", {"taskId": modal_id, "prompt": "a fox --zoom 1.5"})
    assert again["code"] == 4  # submitted once
    assert _remaining(table, token) == 19

    region = _post(api, token, "/mj/submit/action", {"taskId": single.id, "customId": region_id})
    assert region["code"] == 21
    unmasked = _post(api, token, "/mj/submit/modal", {"taskId": region["result"], "prompt": "a hat"})
    assert unmasked["code"] == 4 and "mask" in unmasked["description"].lower()
    mask = _data_url(_png((16, 16), (255, 255, 255)))
    masked = _post(api, token, "/mj/submit/modal", {"taskId": region["result"], "prompt": "a hat", "maskBase64": mask})
    assert masked["code"] == 1
    job = store.get(region["result"])
    assert job is not None and job.options["mask_key"].startswith("masks/") and job.options["prompt"] == "a hat"

    pan = _post(api, token, "/mj/submit/action", {"taskId": single.id, "customId": single.buttons[0][2].custom_id})
    assert pan["code"] == 1  # Remix is not known to be on: no form
    masked_pan = _post(api, token, "/mj/submit/modal", {"taskId": pan["result"], "prompt": "x", "maskBase64": mask})
    assert masked_pan["code"] == 4  # not waiting for a form


def test_remix_on_or_asked_for_makes_variations_wait_for_their_form(api: ApiClient, table: Table) -> None:
    token = _token(api)
    grid = _finished(table, token)
    u1, v1 = grid.buttons[0][0].custom_id, grid.buttons[1][0].custom_id
    asked = _post(api, token, "/mj/submit/action", {"taskId": grid.id, "customId": v1, "enableRemix": True})
    assert asked["code"] == 21  # the account's Remix setting is not known: trust the caller
    assert _post(api, token, "/mj/submit/action", {"taskId": grid.id, "customId": u1, "enableRemix": True})["code"] == 1
    set_settings(table, "acc-fast", "mj", {"remix": False})
    refused = _post(api, token, "/mj/submit/action", {"taskId": grid.id, "customId": v1, "enableRemix": True})
    assert refused["code"] == 4 and "Remix" in refused["description"]
    assert _post(api, token, "/mj/submit/action", {"taskId": grid.id, "customId": v1})["code"] == 1
    set_settings(table, "acc-fast", "mj", {"remix": True})
    on = _post(api, token, "/mj/submit/action", {"taskId": grid.id, "customId": v1})
    assert on["code"] == 21
    plain = _post(api, token, "/mj/submit/modal", {"taskId": on["result"]})  # no prompt: the parent's
    assert plain["code"] == 1
    job = JobStore(table).get(on["result"])
    assert job is not None and job.status == JobStatus.SUBMITTED and "prompt" not in job.options
    assert job.prompt == "a red fox --v 6.1"


def test_a_modal_task_can_be_cancelled_for_free(api: ApiClient, table: Table) -> None:
    token = _token(api)
    single = _finished(table, token, single=True)
    waiting = _post(api, token, "/mj/submit/action", {"taskId": single.id, "customId": single.buttons[0][1].custom_id})
    cancelled = _post(api, token, f"/mj/task/{waiting['result']}/cancel", None)
    assert cancelled["code"] == 1
    assert _get(api, token, f"/mj/task/{waiting['result']}/fetch").json()["status"] == "CANCEL"
    late = _post(api, token, "/mj/submit/modal", {"taskId": waiting["result"], "prompt": "a fox --zoom 2"})
    assert late["code"] == 4
    assert _remaining(table, token) == 20


# -- one job, two faces ----------------------------------------------------------------------------------------------


def test_both_faces_see_one_job_with_the_same_isolation(api: ApiClient, table: Table) -> None:
    owner, stranger = _token(api), _token(api)
    original = api.get("/midjourney/imagine", query={"token": owner, "prompt": "a blue whale"}).json()
    task = _get(api, owner, f"/mj/task/{original['id']}/fetch").json()
    assert task["id"] == original["id"] and task["prompt"] == "a blue whale"
    assert _get(api, stranger, f"/mj/task/{original['id']}/fetch").json() is None
    proxied = _post(api, owner, "/mj/submit/imagine", {"prompt": "a grey whale"})["result"]
    job = api.get("/midjourney/job", query={"token": owner, "id": proxied})
    assert job.status == 200 and job.json()["prompt"] == "a grey whale"
    assert api.get("/midjourney/job", query={"token": stranger, "id": proxied}).status == 404
    listed = {t["id"] for t in _get(api, owner, "/mj/task/list").json()}
    assert {original["id"], proxied} <= listed


def test_openapi_lists_the_mj_routes_with_their_schemas(api: ApiClient) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        ("/mj/submit/imagine", "post"): "ImagineRequest",
        ("/mj/submit/action", "post"): "ActionRequest",
        ("/mj/submit/modal", "post"): "ModalRequest",
        ("/mj/submit/describe", "post"): "DescribeRequest",
        ("/mj/submit/blend", "post"): "BlendRequest",
        ("/mj/submit/shorten", "post"): "ShortenRequest",
        ("/mj/submit/change", "post"): "ChangeRequest",
        ("/mj/submit/simple-change", "post"): "SimpleChangeRequest",
        ("/mj/submit/upload-discord-images", "post"): "UploadRequest",
    }
    for (path, method), model in expected.items():
        operation = paths[path][method]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(f"/{model}"), path
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/SubmitResult")
    for path in ("/mj/task/list-by-condition", "/mj/task/list-by-ids"):
        operation = paths[path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/IdsRequest")
        listed = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert listed["type"] == "array" and listed["items"]["$ref"].endswith("/ProxyTask"), path
    for path in ("/mj/task/{task_id}/fetch", "/mj/task/list", "/mj/task/queue"):
        assert "ProxyTask" in json.dumps(paths[path]["get"]["responses"]["200"]), path
    for path in ("/mj/task/{task_id}/image-seed",):
        assert "SubmitResult" in json.dumps(paths[path]["get"]["responses"]["200"])
    assert "/mj/task/{task_id}/cancel" in paths
    task = spec["components"]["schemas"]["ProxyTask"]["properties"]
    assert {"id", "action", "status", "progress", "imageUrl", "failReason", "submitTime", "buttons"} <= set(task)
    assert not [p for p in paths if p.startswith(("/mj-", "/fast/", "/relax/", "/turbo/"))]  # prefixes: not listed


def test_an_action_with_a_private_notify_hook_is_code_4(api: ApiClient, table: Table) -> None:
    token = _token(api)
    single = _finished(table, token, single=True)
    zoom_id = single.buttons[0][1].custom_id
    refused = _post(
        api, token, "/mj/submit/action", {"taskId": single.id, "customId": zoom_id, "notifyHook": "http://10.0.0.1/"}
    )
    assert refused["code"] == 4 and "notify_hook" in refused["description"]


def test_a_banned_word_is_code_24_with_the_word_and_costs_nothing(
    api: ApiClient, table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MJAPI_BANNED_WORDS", "gore, Splatter")
    get_settings.cache_clear()
    token = _token(api)
    banned = _post(api, token, "/mj/submit/imagine", {"prompt": "a SPLATTER painting of a fox"})
    assert banned["code"] == 24 and banned["properties"]["bannedWord"] == "splatter"
    assert banned["result"] is None
    fine = _post(api, token, "/mj/submit/imagine", {"prompt": "a splattered wall"})  # whole words only
    assert fine["code"] in (1, 22)
    original = api.get("/midjourney/imagine", query={"token": token, "prompt": "gore"})
    assert original.status == 400 and original.json()["code"] == "banned_prompt"
    assert original.json()["banned_word"] == "gore"
    assert get_token(table, hash_token(token)).remaining == 19  # type: ignore[union-attr]


# -- accounts --------------------------------------------------------------------------------------------------------


def test_account_routes_are_for_the_admin_and_never_carry_a_discord_token(api: ApiClient) -> None:
    listed = _get(api, ADMIN, "/mj/account/list")  # OSS's one secret header, holding the admin key
    assert listed.status == 200, listed.text
    by_id = {a["id"]: a for a in listed.json()}
    assert set(by_id) == {"acc-fast", "acc-relax"}
    fast = by_id["acc-fast"]
    assert (fast["channelId"], fast["guildId"], fast["coreSize"], fast["mode"]) == ("111", "900", 12, "FAST")
    assert fast["enable"] is True and fast["botTypes"] == ["MID_JOURNEY", "NIJI_JOURNEY"] and fast["running"] == 0
    assert by_id["acc-relax"]["mode"] == "RELAX"
    for secret in ("t-fast", "t-relax", "userToken"):
        assert secret not in listed.text
    posted = api.post("/mj-relax/mj/account/list", json_body={}, headers={"x-admin-key": ADMIN})
    assert posted.status == 200 and {a["id"] for a in posted.json()} == set(by_id)
    one = api.get("/mj/account/acc-relax/fetch", headers={"authorization": f"Bearer {ADMIN}"})
    assert one.status == 200 and one.json()["id"] == "acc-relax" and one.json()["coreSize"] == 1
    assert _get(api, ADMIN, "/mj/account/nobody/fetch").json() is None

    token = _token(api)  # an API token sees no accounts
    for path in ("/mj/account/list", "/mj/account/acc-fast/fetch"):
        refused = _get(api, token, path)
        assert refused.status == 401 and refused.json()["code"] == "admin_required", refused.text
    assert api.get("/mj/account/list").status == 401
