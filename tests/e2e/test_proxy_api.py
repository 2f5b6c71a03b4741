"""The midjourney-proxy face (/mj/*) end to end: HTTP -> Lambda handler -> Discord REST (simulator) -> gateway -> relay
-> the task a gateway polls. Every route and code, the modal flow, mode prefixes, both faces on one job, and a
conformance test written from docs/MIDJOURNEY_PROXY_API.md §4-§6 and §9 (not from the implementation)."""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from PIL import Image
from pydantic import BaseModel, ConfigDict, TypeAdapter, field_validator

from devstack.stack import RunningStack
from mjapi.ids import hash_token
from mjapi.settings import get_settings
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import get_token
from tests.e2e.conftest import ADMIN, Client, launch

FINAL = ("SUCCESS", "FAILURE", "CANCEL")


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from launch(extra_env={"MJAPI_QUEUE_LIMIT": "2"})


# -- what a typed gateway client decodes (written from the doc, §4, §5, §9) -----------------------------------------

STRICT = ConfigDict(strict=True, extra="allow")
_PROGRESS = re.compile(r"^(?:[0-9]{1,2}%|100%|)$")
#: §6: U1-U4 are MJ::JOB::upsample::<i>::<hash>; every Midjourney button starts with MJ::.
_UPSAMPLE = re.compile(r"^MJ::JOB::upsample::([1-4])::[0-9a-f-]{36}$")


class DocSubmitResult(BaseModel):
    """§4 SubmitResultVO: {code:int, description:string, result:string|null, properties:object}."""

    model_config = STRICT
    code: int
    description: str
    result: str | None
    properties: dict[str, Any]


class DocButton(BaseModel):
    """§5 Button: customId, emoji, label strings; type and style ints."""

    model_config = STRICT
    customId: str
    emoji: str
    label: str
    type: int
    style: int


class DocProperties(BaseModel):
    model_config = STRICT
    finalPrompt: str | None = None


class DocTask(BaseModel):
    """§5 Task, with the types new-api's poller needs (§9: status a string, times integers)."""

    model_config = STRICT
    id: str
    action: str
    status: Literal["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "FAILURE", "SUCCESS", "CANCEL"]
    prompt: str
    promptEn: str
    description: str
    state: str | None
    submitTime: int | None
    startTime: int | None
    finishTime: int | None
    imageUrl: str | None
    progress: str
    failReason: str | None
    properties: DocProperties
    buttons: list[DocButton]

    @field_validator("progress")
    @classmethod
    def _percent(cls, value: str) -> str:
        assert _PROGRESS.match(value), value
        return value


TASK_LIST = TypeAdapter(list[DocTask])


def _check_lifecycle(task: DocTask) -> None:
    """§5 lifecycle and §9's refund rule: 100% only on SUCCESS; FAILURE has a reason and '' progress."""
    if task.status == "SUCCESS":
        assert task.progress == "100%" and task.finishTime is not None
        assert task.imageUrl or task.action == "SHORTEN"  # shorten answers with text only
    else:
        assert task.progress != "100%"
    if task.status == "FAILURE":
        assert task.failReason and task.progress == ""


# -- helpers -----------------------------------------------------------------------------------------------------------


def _png(color: tuple[int, int, int], size: tuple[int, int] = (96, 64), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color if mode == "RGB" else color[0]).save(out, format="PNG")
    return out.getvalue()


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _mask() -> str:
    out = io.BytesIO()
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    mask.save(out, format="PNG")
    return _data_url(out.getvalue())


def _remaining(token: str) -> int:
    found = get_token(Table(get_settings().table_name), hash_token(token))
    assert found is not None
    return found.remaining


def _submit(client: Client, token: str, path: str, body: dict[str, Any], *, codes: tuple[int, ...] = (1,)) -> str:
    resp = client.http.post(path, json=body, headers={"mj-api-secret": token})
    assert resp.status_code == 200, resp.text
    found = DocSubmitResult.model_validate(resp.json())
    assert found.code in codes, (path, body.keys(), found)
    assert found.result is not None
    return found.result


def _result(client: Client, token: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = client.http.post(path, json=body, headers={"mj-api-secret": token})
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


def _fetch(client: Client, token: str, task_id: str, prefix: str = "/mj") -> DocTask:
    resp = client.http.get(f"{prefix}/task/{task_id}/fetch", headers={"mj-api-secret": token})
    assert resp.status_code == 200, resp.text
    return DocTask.model_validate(resp.json())


def _poll(client: Client, token: str, task_id: str, *, until: tuple[str, ...] = FINAL, timeout: float = 45) -> DocTask:
    """As chat UIs poll: fetch until SUCCESS/FAILURE (or the wanted status), bounded."""
    deadline = time.monotonic() + timeout
    task = _fetch(client, token, task_id)
    while task.status not in until and time.monotonic() < deadline:
        time.sleep(0.3)
        task = _fetch(client, token, task_id)
    assert task.status in until, task
    _check_lifecycle(task)
    return task


def _done(client: Client, token: str, task_id: str) -> DocTask:
    task = _poll(client, token, task_id)
    assert task.status == "SUCCESS", task
    return task


def _imagine(client: Client, token: str, prompt: str, prefix: str = "/mj") -> DocTask:
    return _done(client, token, _submit(client, token, f"{prefix}/submit/imagine", {"prompt": prompt}))


def _button(task: DocTask, *names: str) -> str:
    for button in task.buttons:
        if button.label in names or button.emoji in names:
            return button.customId
    raise AssertionError(f"no {names} among {[(b.label, b.emoji) for b in task.buttons]}")


def _instance(task: DocTask) -> str:
    """properties.discordInstanceId: the account that ran the task."""
    return str((task.properties.model_extra or {})["discordInstanceId"])


def _remix(client: Client, account: str, wanted: bool) -> None:
    for _ in range(2):
        resp = client.http.get(
            "/midjourney/switch", params={"type": "remix", "account": account}, headers={"x-admin-key": ADMIN}
        )
        assert resp.status_code == 200 and resp.json()["status"] == "succeeded", resp.text
        if resp.json()["result"]["remix"] is wanted:
            return
    raise AssertionError(f"remix did not turn {wanted}")


# -- conformance ---------------------------------------------------------------------------------------------------


def test_conformance_a_gateways_flow(client: Client) -> None:
    """§9: new-api/chat UIs submit imagine with mj-api-secret, poll fetch, press U1 by customId, poll, and read the
    batch back with list-by-condition into typed structs; images must be publicly downloadable."""
    token = client.token()
    body = {"prompt": "a lighthouse at dusk --ar 3:2", "base64Array": [], "notifyHook": "", "state": "chat-1"}
    grid_id = _submit(client, token, "/mj/submit/imagine", body, codes=(1, 22))
    assert grid_id.isdigit()  # §1: a numeric string
    grid = _poll(client, token, grid_id)
    assert grid.status == "SUCCESS" and grid.action == "IMAGINE" and grid.state == "chat-1"
    assert grid.id == grid_id and grid.submitTime and grid.startTime and grid.finishTime
    assert grid.submitTime <= grid.startTime <= grid.finishTime
    assert grid.description.startswith("/imagine ")
    upsamples = {m.group(1): b.customId for b in grid.buttons if (m := _UPSAMPLE.match(b.customId))}
    assert set(upsamples) == {"1", "2", "3", "4"}
    assert all(b.type == 2 for b in grid.buttons)
    image = client.http.get(grid.imageUrl or "")  # new-api re-serves it: it must be publicly downloadable
    assert image.status_code == 200
    with Image.open(io.BytesIO(image.content)) as decoded:
        assert decoded.width > decoded.height  # the --ar 3:2 grid

    upscale_id = _submit(client, token, "/mj/submit/action", {"taskId": grid_id, "customId": upsamples["1"]})
    upscale = _poll(client, token, upscale_id)
    assert upscale.status == "SUCCESS" and upscale.action == "UPSCALE"
    assert upscale.buttons and all(b.customId.startswith("MJ::") for b in upscale.buttons)

    resp = client.http.post(
        "/mj/task/list-by-condition", json={"ids": [grid_id, upscale_id, "1"]}, headers={"mj-api-secret": token}
    )
    assert resp.status_code == 200
    listed = TASK_LIST.validate_python(resp.json())
    assert [t.id for t in listed] == [grid_id, upscale_id]
    for task in listed:
        _check_lifecycle(task)
        assert task.properties.finalPrompt


# -- every route -----------------------------------------------------------------------------------------------------


def test_describe_blend_shorten_change_and_uploads(client: Client, stack: RunningStack) -> None:
    token = client.token()
    described = _done(
        client, token, _submit(client, token, "/mj/submit/describe", {"base64": _data_url(_png((9, 9, 200)))})
    )
    assert described.action == "DESCRIBE" and described.properties.finalPrompt
    assert described.prompt == described.properties.finalPrompt and described.prompt.count("\n\n") >= 3
    picked = _submit(
        client, token, "/mj/submit/action", {"taskId": described.id, "customId": _button(described, "2️⃣")}, codes=(21,)
    )
    from_prompt = _done(client, token, _submit(client, token, "/mj/submit/modal", {"taskId": picked}))
    assert from_prompt.id == picked and from_prompt.action == "IMAGINE"
    second = described.prompt.split("\n\n")[1]
    assert second.split(" --")[0] in (from_prompt.properties.finalPrompt or "")  # the bot's prefilled prompt 2

    images = [_data_url(_png((n * 60, 20, 20))) for n in (1, 2)]
    blend = _done(
        client, token, _submit(client, token, "/mj/submit/blend", {"base64Array": images, "dimensions": "LANDSCAPE"})
    )
    assert blend.action == "BLEND" and blend.description == f"/blend {blend.id} 2"
    with Image.open(io.BytesIO(client.http.get(blend.imageUrl or "").content)) as grid_image:
        assert grid_image.width > grid_image.height

    shortened = _done(
        client,
        token,
        _submit(
            client, token, "/mj/submit/shorten", {"prompt": "a very detailed old castle on a hill with fog and crows"}
        ),
    )
    assert shortened.action == "SHORTEN" and (shortened.properties.finalPrompt or "").count("\n\n") >= 1

    v2 = _done(
        client,
        token,
        _submit(client, token, "/mj/submit/change", {"taskId": blend.id, "action": "VARIATION", "index": 2}),
    )
    assert v2.action == "VARIATION" and v2.description == f"/up {blend.id} V2"
    u3 = _done(client, token, _submit(client, token, "/mj/submit/simple-change", {"content": f"{blend.id} U3"}))
    assert u3.action == "UPSCALE" and u3.description == f"/up {blend.id} U3"
    reroll = _done(client, token, _submit(client, token, "/mj/submit/change", {"taskId": blend.id, "action": "REROLL"}))
    assert reroll.action == "REROLL"

    uploaded = _result(client, token, "/mj/submit/upload-discord-images", {"base64Array": images})
    assert uploaded["code"] == 1 and len(uploaded["result"]) == 2
    assert all(client.http.get(url).status_code == 200 for url in uploaded["result"])
    with_image = _imagine(client, token, f"{uploaded['result'][0]} a red cube")
    assert with_image.prompt.startswith(uploaded["result"][0])
    prompted = _submit(client, token, "/mj/submit/imagine", {"prompt": "a green cube", "base64Array": images[:1]})
    assert _done(client, token, prompted).prompt.startswith(f"{get_settings().cdn_base_url.rstrip('/')}/uploads/")

    seed = client.http.get(f"/mj/task/{blend.id}/image-seed", headers={"mj-api-secret": token}).json()
    assert seed["code"] == 1 and isinstance(seed["result"], str)
    job = JobStore(Table(get_settings().table_name)).get(blend.id)
    assert job is not None and job.message_hash
    assert seed["result"] == str(stack.simulator.job(job.message_hash).seed)

    listed = TASK_LIST.validate_python(client.http.get("/mj/task/list", headers={"mj-api-secret": token}).json())
    ids = [t.id for t in listed]
    assert ids[0] == prompted and described.id in ids and ids.index(prompted) < ids.index(blend.id)


def test_describe_by_link(client: Client) -> None:
    token = client.token()
    uploaded = _result(
        client, token, "/mj/submit/upload-discord-images", {"base64Array": [_data_url(_png((1, 99, 1)))]}
    )
    described = _done(client, token, _submit(client, token, "/mj/submit/describe", {"link": uploaded["result"][0]}))
    assert described.imageUrl == uploaded["result"][0] and described.properties.finalPrompt


def test_the_modal_flow(client: Client) -> None:
    """action -> 21 -> modal with a prompt (custom zoom), with a mask (Vary Region), and Remix on -> SUCCESS."""
    token = client.token()
    grid = _imagine(client, token, "a paper boat on a pond --v 6.1")
    single = _done(
        client, token, _submit(client, token, "/mj/submit/action", {"taskId": grid.id, "customId": _button(grid, "U2")})
    )

    zoom = _submit(
        client,
        token,
        "/mj/submit/action",
        {"taskId": single.id, "customId": _button(single, "Custom Zoom")},
        codes=(21,),
    )
    waiting = _fetch(client, token, zoom)
    assert waiting.status == "MODAL" and waiting.description == "Waiting for window confirm"
    assert waiting.properties.finalPrompt
    before = _remaining(token)
    assert _result(client, token, "/mj/submit/modal", {"taskId": zoom, "prompt": "a paper boat"})["code"] == 4
    _submit(client, token, "/mj/submit/modal", {"taskId": zoom, "prompt": "a paper boat, wide --zoom 1.5"})
    zoomed = _done(client, token, zoom)
    assert (
        zoomed.id == zoom and zoomed.action == "CUSTOM_ZOOM" and "--zoom 1.5" in (zoomed.properties.finalPrompt or "")
    )
    assert _remaining(token) == before - 1

    region = _submit(
        client,
        token,
        "/mj/submit/action",
        {"taskId": single.id, "customId": _button(single, "Vary (Region)")},
        codes=(21,),
    )
    assert _result(client, token, "/mj/submit/modal", {"taskId": region})["code"] == 4  # no mask
    _submit(
        client,
        token,
        "/mj/submit/modal",
        {"taskId": region, "prompt": "a paper boat with a flag", "maskBase64": _mask()},
    )
    repainted = _done(client, token, region)
    assert repainted.action == "INPAINT" and "flag" in (repainted.properties.finalPrompt or "")

    instance = _instance(_fetch(client, token, grid.id))
    _remix(client, instance, True)
    try:
        remix = _submit(
            client, token, "/mj/submit/action", {"taskId": grid.id, "customId": _button(grid, "V3")}, codes=(21,)
        )
        resp = _result(client, token, "/mj/submit/action", {"taskId": grid.id, "customId": _button(grid, "V3")})
        assert resp["properties"]["remix"] is True and "confirm" in resp["description"]  # what chat UIs look for
        _submit(client, token, "/mj/submit/modal", {"taskId": remix, "prompt": "a paper plane over a pond --v 6.1"})
        remixed = _done(client, token, remix)
        assert remixed.action == "VARIATION" and "plane" in (remixed.properties.finalPrompt or "")
        _submit(client, token, "/mj/submit/modal", {"taskId": resp["result"]})  # no prompt: the parent's
        assert "boat" in (_done(client, token, resp["result"]).properties.finalPrompt or "")
    finally:
        _remix(client, instance, False)
    refused = _result(
        client, token, "/mj/submit/action", {"taskId": grid.id, "customId": _button(grid, "V4"), "enableRemix": True}
    )
    assert refused["code"] == 4  # Remix is known to be off on the account now


def test_both_faces_see_one_job(client: Client) -> None:
    owner, stranger = client.token(), client.token()
    resp = client.http.get("/midjourney/imagine", params={"token": owner, "prompt": "a copper kettle"})
    original = client.wait_job(owner, resp.json()["id"])
    task = _fetch(client, owner, original["id"])
    assert task.status == "SUCCESS" and task.imageUrl == original["images"][0]["url"]
    assert client.http.get(f"/mj/task/{original['id']}/fetch", headers={"mj-api-secret": stranger}).json() is None
    u1 = _submit(client, owner, "/mj/submit/action", {"taskId": original["id"], "customId": _button(task, "U1")})
    _done(client, owner, u1)
    thread = client.http.get("/midjourney/job", params={"token": owner, "id": original["id"]}).json()
    assert u1 in [child["id"] for child in thread["children"]]
    proxied = _imagine(client, owner, "a tin kettle")
    job = client.wait_job(owner, proxied.id)
    assert job["status"] == "succeeded" and job["images"][0]["url"] == proxied.imageUrl
    assert client.http.get("/midjourney/job", params={"token": stranger, "id": proxied.id}).status_code == 404
    pressed = client.http.post("/midjourney/action", json={"token": owner, "job": proxied.id, "action": "U2"})
    assert pressed.status_code == 200, pressed.text
    assert _done(client, owner, pressed.json()["action_job_id"]).action == "UPSCALE"
    ids = [original["id"], proxied.id, pressed.json()["action_job_id"]]
    for token, expected in ((owner, ids), (stranger, [])):
        resp = client.http.post("/mj/task/list-by-ids", json={"ids": ids}, headers={"Authorization": f"Bearer {token}"})
        assert [t.id for t in TASK_LIST.validate_python(resp.json())] == expected


@pytest.mark.parametrize(
    ("prefix", "instance"), [("/mj-relax/mj", "demo2"), ("/fast/mj", "demo1"), ("/turbo/mj", None)]
)
def test_mode_prefixes(client: Client, prefix: str, instance: str | None) -> None:
    token = client.token()
    resp = _result(client, token, f"{prefix}/submit/imagine", {"prompt": "a small bird on a wire"})
    if instance is None:
        assert resp["code"] == 9  # no turbo account: a failure, never 3
        return
    assert resp["code"] == 1 and resp["properties"]["discordInstanceId"] == instance
    assert _poll(client, token, resp["result"]).status == "SUCCESS"
    assert _instance(_fetch(client, token, resp["result"], prefix=prefix)) == instance


def test_codes_queue_cancel_and_failures(client: Client) -> None:
    token = client.token()
    assert client.http.post("/mj/submit/imagine", json={"prompt": "x"}).status_code == 401
    assert client.http.get("/mj/task/list", headers={"mj-api-secret": "mjk_nope"}).status_code == 401
    assert _result(client, token, "/mj/submit/imagine", {"prompt": "x --bogus 1"})["code"] == 4
    assert (
        _result(client, token, "/mj/submit/action", {"taskId": "1", "customId": "MJ::JOB::upsample::1::x"})["code"] == 3
    )
    assert client.http.get("/mj/task/1/fetch", headers={"mj-api-secret": token}).json() is None

    stalled = [
        _submit(client, token, "/mj-relax/mj/submit/imagine", {"prompt": f"a long wait {n} simstall"}) for n in range(3)
    ]
    first = _result(client, token, "/mj-relax/mj/submit/imagine", {"prompt": "in line one"})
    second = _result(client, token, "/mj-relax/mj/submit/imagine", {"prompt": "in line two"})
    assert (first["code"], second["code"]) == (22, 22)
    assert (first["properties"]["numberOfQueues"], second["properties"]["numberOfQueues"]) == (0, 1)
    assert _result(client, token, "/mj-relax/mj/submit/imagine", {"prompt": "no room"})["code"] == 23
    queue = TASK_LIST.validate_python(client.http.get("/mj/task/queue", headers={"mj-api-secret": token}).json())
    assert [t.id for t in queue] == [first["result"], second["result"]] and {t.status for t in queue} == {"NOT_START"}

    for task_id in (second["result"], first["result"]):
        cancelled = _result(client, token, f"/mj/task/{task_id}/cancel")
        assert cancelled["code"] == 1 and cancelled["properties"]["status"] == "CANCEL"
    for task_id in stalled:
        _poll(client, token, task_id, until=("IN_PROGRESS",))
        cancelled = _result(client, token, f"/mj/task/{task_id}/cancel", {})
        assert cancelled["code"] in (1, 22), cancelled
        assert _poll(client, token, task_id).status == "CANCEL"
    assert client.http.get("/mj/task/queue", headers={"mj-api-secret": token}).json() == []

    banned = _poll(client, token, _submit(client, token, "/mj/submit/imagine", {"prompt": "a simbanned thing"}))
    assert banned.status == "FAILURE" and "banned" in (banned.failReason or "").lower() and banned.progress == ""
