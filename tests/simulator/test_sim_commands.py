"""Slash commands other than imagine, and the per-account events (captcha, ban, mod message, ToS, lapse)."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sim_harness import Discord, Gateway, custom_ids, find_custom_id, imagine_result, png, submit_and_wait

from simulator import NIJI_APP_ID, Account, Simulator

JSON = dict[str, Any]


async def reply_to(discord: Discord, gw: Gateway, name: str, options: list[JSON] | None = None, **kwargs: Any) -> JSON:
    """The bot's first message answering a command (matched by nonce)."""
    nonce = discord.nonce()
    start = len(gw.frames)
    status, body = await discord.command(name, options, nonce=nonce, session_id=gw.session_id, **kwargs)
    assert status == 204, body
    return await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)


async def filled(gw: Gateway, message: JSON) -> JSON:
    """The MESSAGE_UPDATE that fills a deferred ("thinking") message."""
    return await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == message["id"] and not d["flags"] & 128)


async def answer_to(
    discord: Discord,
    gw: Gateway,
    name: str,
    options: list[JSON] | None = None,
    *,
    ephemeral: bool = True,
    **kwargs: Any,
) -> JSON:
    """The answer to a command the bot defers, after checking the two steps of a deferred reply: a MESSAGE_CREATE with
    flags 128 (64|128 when ephemeral), empty, with the nonce and the interaction; then a MESSAGE_UPDATE of the same
    message without the nonce, carrying the answer with the loading flag cleared."""
    nonce = discord.nonce()
    start = len(gw.frames)
    status, body = await discord.command(name, options, nonce=nonce, session_id=gw.session_id, **kwargs)
    assert status == 204, body
    success = await gw.event("INTERACTION_SUCCESS", lambda d: d.get("nonce") == nonce, start=start)
    thinking = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert thinking["flags"] == (64 | 128 if ephemeral else 128)
    assert (thinking["content"], thinking["embeds"], thinking["components"], thinking["attachments"]) == (
        "",
        [],
        [],
        [],
    )
    metadata = thinking["interaction_metadata"]
    assert (metadata["id"], metadata["type"]) == (success["id"], 2)
    assert thinking["interaction"]["id"] == success["id"] and thinking["interaction"]["name"] == metadata["name"]
    answer = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == thinking["id"], start=start)
    assert "nonce" not in answer
    assert answer["flags"] == (64 if ephemeral else 0)
    assert answer["interaction_metadata"] == metadata and answer["interaction"] == thinking["interaction"]
    assert answer["content"] or answer["embeds"]
    answers = [
        f["d"]
        for f in gw.frames[start:]
        if f.get("t") == "MESSAGE_CREATE" and (f["d"].get("interaction_metadata") or {}).get("id") == success["id"]
    ]
    assert answers == [thinking]  # the answer is the edit, not a second message
    return answer


def option(name: str, value: str) -> JSON:
    return {"type": 3, "name": name, "value": value}


def sub(name: str, *options: JSON) -> JSON:
    return {"type": 1, "name": name, "options": list(options)}


@pytest.mark.parametrize(
    ("name", "options", "full_name", "ephemeral", "expected"),
    [
        ("settings", [], "settings", True, "Adjust your settings here."),
        ("info", [], "info", True, "Your info - alice"),
        ("describe", [option("link", "https://example.com/a.jpg")], "describe", False, "1️⃣ "),
        ("shorten", [option("prompt", "a very detailed red fox")], "shorten", False, "**Important tokens**"),
        ("prefer", [sub("remix")], "prefer remix", True, "Remix mode turned on!"),
        ("prefer", [sub("variability")], "prefer variability", True, "High variability mode turned off!"),
        ("prefer", [sub("auto_dm")], "prefer auto_dm", True, "Auto DM turned on!"),
        ("prefer", [sub("suffix", option("new_value", "--s 50"))], "prefer suffix", True, "Custom suffix saved"),
        ("prefer", [sub("suffix")], "prefer suffix", True, "Custom suffix removed."),
        (
            "prefer",
            [{"type": 2, "name": "option", "options": [sub("set", option("option", "o"), option("value", "--q 2"))]}],
            "prefer option set",
            True,
            "Custom option `--o` set to `--q 2`",
        ),
        (
            "prefer",
            [{"type": 2, "name": "option", "options": [sub("list")]}],
            "prefer option list",
            True,
            "You have no",
        ),
    ],
)
async def test_deferred_commands(
    discord: Discord,
    gw: Gateway,
    name: str,
    options: list[JSON],
    full_name: str,
    ephemeral: bool,
    expected: str,
) -> None:
    answer = await answer_to(discord, gw, name, options, ephemeral=ephemeral)
    assert answer["interaction_metadata"]["name"] == full_name
    text = answer["content"] + "".join(e.get("title", "") + e["description"] for e in answer["embeds"])
    assert expected in text


async def test_niji_settings_are_deferred_too(discord: Discord, gw: Gateway) -> None:
    answer = await answer_to(discord, gw, "settings", application_id=NIJI_APP_ID)
    assert answer["author"]["id"] == NIJI_APP_ID and answer["components"]


@pytest.mark.parametrize("name", ["fast", "relax", "turbo", "help", "userid"])
async def test_immediate_replies_are_not_deferred(discord: Discord, gw: Gateway, name: str) -> None:
    nonce = discord.nonce()
    start = len(gw.frames)
    status, _ = await discord.command(name, nonce=nonce, session_id=gw.session_id)
    assert status == 204
    reply = await gw.event("MESSAGE_CREATE", lambda d: d.get("nonce") == nonce, start=start)
    assert reply["flags"] == 64 and (reply["content"] or reply["embeds"])


async def test_refused_preference_is_an_immediate_notice(discord: Discord, gw: Gateway) -> None:
    bad = await reply_to(discord, gw, "prefer", [sub("suffix", option("new_value", "--bogus"))])
    assert bad["flags"] == 64 and bad["embeds"][0]["title"] == "Invalid parameter"


async def describe_upload(discord: Discord, gw: Gateway, data: bytes, filename: str = "1712345678.png") -> JSON:
    uploaded = await discord.upload(filename, data)
    first = await reply_to(
        discord,
        gw,
        "describe",
        [{"type": 11, "name": "image", "value": 0}],
        attachments=[{"id": "0", "filename": filename, "uploaded_filename": uploaded}],
    )
    assert first["flags"] == 128 and first["interaction"]["name"] == "describe"
    return await filled(gw, first)


async def test_describe_upload(discord: Discord, gw: Gateway, http: aiohttp.ClientSession) -> None:
    """2025 grammar (v7 default): sentences with no trailing --ar, " \n\n" between prompts, one artist as a markdown
    link, and the upload shown from /ephemeral-attachments/<describe command id>/."""
    result = await describe_upload(discord, gw, png((20, 60, 200), (300, 200)))
    embed = result["embeds"][0]
    prompts = re.findall(r"(\d️⃣ .+)", embed["description"])
    assert len(prompts) == 4 and embed["description"].count(" \n\n") == 3
    assert not any("--ar" in p for p in prompts)
    assert re.search(r"\[[A-Z][a-z]+ [A-Z][a-z]+\]\(https://goo\.gl/search\?artist%20\w+%20\w+\)", embed["description"])
    describe_id = (await discord.command_def("describe"))["id"]
    path = urlsplit(embed["image"]["url"]).path
    assert re.fullmatch(rf"/ephemeral-attachments/{describe_id}/\d+/1712345678\.png", path)
    async with http.get(embed["image"]["url"]) as response:
        assert response.status == 200


async def test_describe_in_the_2023_grammar(discord: Discord, gw: Gateway, alice: Account) -> None:
    alice.settings["midjourney"].version = "6.0"
    result = await describe_upload(discord, gw, png((20, 60, 200), (300, 200)))
    embed = result["embeds"][0]
    prompts = re.findall(r"(\d️⃣ .+)", embed["description"])
    assert len(prompts) == 4 and embed["description"].count("\n\n") == 3
    assert all(p.endswith("--ar 3:2") for p in prompts) and " \n\n" not in embed["description"]
    assert urlsplit(embed["image"]["url"]).path.startswith(f"/attachments/{alice.channel_id}/")
    assert custom_ids(result) == [
        *(f"MJ::Job::PicReader::{i}" for i in range(1, 5)),
        "MJ::Picread::Retry",
        "MJ::Job::PicReader::all",
    ]


async def test_describe_is_deterministic_per_image(discord: Discord, gw: Gateway) -> None:
    data = png((120, 10, 10))
    first = await describe_upload(discord, gw, data)
    second = await describe_upload(discord, gw, data)
    assert first["embeds"][0]["description"] == second["embeds"][0]["description"]


async def test_describe_link_and_errors(discord: Discord, gw: Gateway) -> None:
    first = await reply_to(discord, gw, "describe", [{"type": 3, "name": "link", "value": "https://example.com/a.jpg"}])
    result = await filled(gw, first)
    assert result["embeds"][0]["image"]["url"] == "https://example.com/a.jpg"
    bad = await reply_to(discord, gw, "describe", [{"type": 3, "name": "link", "value": "https://x.invalid/a.png"}])
    assert bad["embeds"][0]["title"] == "Invalid link" and bad["flags"] == 64
    none = await reply_to(discord, gw, "describe", [])
    assert none["embeds"][0]["title"] == "Invalid parameter"
    uploaded = await discord.upload("notes.txt", b"not an image")
    garbage = await reply_to(
        discord,
        gw,
        "describe",
        [{"type": 11, "name": "image", "value": 0}],
        attachments=[{"id": "0", "filename": "notes.txt", "uploaded_filename": uploaded}],
    )
    assert garbage["embeds"][0]["title"] == "Invalid image"


async def test_describe_link_to_expired_cdn_url(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    grid = await imagine_result(discord, gw, "to be described")
    url = grid["attachments"][0]["url"]
    ok = await filled(gw, await reply_to(discord, gw, "describe", [{"type": 3, "name": "link", "value": url}]))
    assert ok["embeds"][0]["description"].startswith("1️⃣ ")
    sim.advance_cdn_clock(10 * 86400)
    expired = await reply_to(discord, gw, "describe", [{"type": 3, "name": "link", "value": url}])
    assert expired["embeds"][0]["title"] == "Invalid link"


async def test_describe_buttons(discord: Discord, gw: Gateway) -> None:
    result = await describe_upload(discord, gw, png((200, 200, 20)))
    prompts = [line[4:] for line in result["embeds"][0]["description"].split(" \n\n")]
    start = len(gw.frames)
    await discord.click(result, "MJ::Job::PicReader::2", session_id=gw.session_id)
    modal = await gw.event("INTERACTION_MODAL_CREATE", start=start)
    assert modal["custom_id"] == "MJ::Picreader::Modal::2"
    field = modal["components"][0]["components"][0]
    assert field["custom_id"] == "MJ::Picreader::Modal::PromptField" and field["value"] == prompts[1]
    _, grid = await submit_and_wait(discord, gw, discord.submit_modal, modal, {field["custom_id"]: field["value"]})
    assert grid["content"].startswith(f"**{prompts[1]}** - <@")
    start = len(gw.frames)
    await discord.click(result, "MJ::Job::PicReader::all", session_id=gw.session_id)
    for prompt in prompts:
        await gw.event(
            "MESSAGE_CREATE",
            lambda d, p=prompt: d.get("content", "").startswith(f"**{p}**") and bool(d.get("components")),
            start=start,
        )
    start = len(gw.frames)
    await discord.click(result, "MJ::Picread::Retry", session_id=gw.session_id)
    retried = await gw.event("MESSAGE_UPDATE", lambda d: bool(d.get("embeds")) and d["id"] != result["id"], start=start)
    assert retried["embeds"][0]["description"] != result["embeds"][0]["description"]


async def test_blend(discord: Discord, gw: Gateway, alice: Account) -> None:
    options: list[JSON] = []
    attachments = []
    for i in range(5):
        uploaded = await discord.upload(f"b{i}.png", png((40 * i, 100, 200 - 30 * i)))
        attachments.append({"id": str(i), "filename": f"b{i}.png", "uploaded_filename": uploaded})
        options.append({"type": 11, "name": f"image{i + 1}", "value": i})
    options.append({"type": 3, "name": "dimensions", "value": "--ar 2:3"})
    _, result = await submit_and_wait(discord, gw, discord.command, "blend", options, attachments=attachments)
    match = re.match(
        r"^\*\*((?:<https://s\.mj\.run/\w+> ){5})--ar 2:3\*\* - <@(\d+)> \[\(Open on website for full quality\)\]"
        r"\(<https://midjourney\.com/jobs/[0-9a-f-]{36}>\) \(fast\)$",
        result["content"],
    )
    assert match is not None and match.group(2) == alice.user_id
    assert result["attachments"][0]["height"] > result["attachments"][0]["width"]
    assert len(result["components"]) == 2


async def test_blend_validation(discord: Discord, gw: Gateway) -> None:
    uploaded = await discord.upload("one.png", png())
    status, body = await discord.command(
        "blend",
        [{"type": 11, "name": "image1", "value": 0}],
        attachments=[{"id": "0", "filename": "one.png", "uploaded_filename": uploaded}],
    )
    assert status == 400 and body["code"] == 50035
    status, body = await discord.command(
        "blend",
        [
            {"type": 11, "name": "image1", "value": 0},
            {"type": 11, "name": "image2", "value": 1},
            {"type": 3, "name": "dimensions", "value": "--ar 9:9"},
        ],
        attachments=[
            {"id": "0", "filename": "one.png", "uploaded_filename": uploaded},
            {"id": "1", "filename": "one.png", "uploaded_filename": uploaded},
        ],
    )
    assert status == 400 and body["code"] == 50035
    text = await discord.upload("t.txt", b"text")
    notice = await reply_to(
        discord,
        gw,
        "blend",
        [{"type": 11, "name": "image1", "value": 0}, {"type": 11, "name": "image2", "value": 1}],
        attachments=[
            {"id": "0", "filename": "one.png", "uploaded_filename": uploaded},
            {"id": "1", "filename": "t.txt", "uploaded_filename": text},
        ],
    )
    assert notice["embeds"][0]["title"] == "Invalid image"


async def test_shorten_and_imagine_from_it(discord: Discord, gw: Gateway) -> None:
    first = await reply_to(
        discord,
        gw,
        "shorten",
        [{"type": 3, "name": "prompt", "value": "a very beautiful highly detailed portrait of an old sailor"}],
    )
    result = await filled(gw, first)
    embed = result["embeds"][0]
    assert embed["footer"]["text"] == "Click on a button to imagine one of the shortened prompts"
    assert "**Important tokens**" in embed["description"] and "**Shortened prompts**" in embed["description"]
    shortened = re.findall(r"\d️⃣ (.+)", embed["description"])
    assert len(shortened) == 5 and "sailor" in shortened[0]
    assert result["interaction_metadata"]["name"] == "shorten"
    start = len(gw.frames)
    await discord.click(result, "MJ::Job::PromptAnalyzer::3", session_id=gw.session_id)
    modal = await gw.event("INTERACTION_MODAL_CREATE", start=start)
    assert modal["custom_id"] == f"MJ::ImagineModal::{result['id']}"
    field = modal["components"][0]["components"][0]
    assert field["custom_id"] == "MJ::ImagineModal::new_prompt" and field["value"] == shortened[2]
    _, grid = await submit_and_wait(discord, gw, discord.submit_modal, modal, {field["custom_id"]: field["value"]})
    assert grid["content"].startswith(f"**{shortened[2]}**")
    start = len(gw.frames)
    await discord.click(result, "MJ::Job::PromptAnalyzerExtended", session_id=gw.session_id)
    details = await gw.event("MESSAGE_CREATE", lambda d: d["flags"] == 64, start=start)
    assert "Token weights" in details["content"]


async def test_info_embed_format(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    await imagine_result(discord, gw, "count me")
    first = await reply_to(discord, gw, "info")
    assert first["flags"] == 64 | 128
    info = await filled(gw, first)
    assert info["flags"] == 64 and info["interaction_metadata"]["name"] == "info"
    embed = info["embeds"][0]
    assert embed["title"] == "Your info - alice"
    fields = dict(line.split(":", 1) for line in embed["description"].split("\n") if line)
    fields = {k.strip("*").strip(): v.strip() for k, v in fields.items()}
    assert re.fullmatch(r"Standard \(Active monthly, renews next on <t:\d+>\)", fields["Subscription"])
    assert fields["Job Mode"] == "Fast" and fields["Visibility Mode"] == "Public"
    remaining = re.fullmatch(r"(\d+\.\d\d)/15\.0 hours \((\d+\.\d\d)%\)", fields["Fast Time Remaining"])
    assert remaining is not None and float(remaining.group(1)) < 15.0
    assert fields["Lifetime Usage"].startswith("4 images")
    assert fields["Relaxed Usage"] == "0 images (0.00 hours)"
    assert fields["Queued Jobs (fast)"] == "0" and fields["Queued Jobs (relax)"] == "0"
    assert fields["Running Jobs"] == "None"


@pytest.mark.parametrize(
    ("command", "mode", "text"),
    [("relax", "relax", "do not consume fast-hours"), ("turbo", "turbo", "turbo"), ("fast", "fast", "fast mode")],
)
async def test_mode_commands(discord: Discord, gw: Gateway, alice: Account, command: str, mode: str, text: str) -> None:
    reply = await reply_to(discord, gw, command)
    assert reply["content"].startswith("Done!") and text in reply["content"]
    assert reply["flags"] == 64 and reply["interaction_metadata"]["name"] == command
    assert alice.mode == mode


async def test_settings_message_and_buttons(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    settings = await answer_to(discord, gw, "settings")
    assert settings["flags"] == 64
    assert settings["content"].startswith("Adjust your settings here. Current suffix:")
    labels = {c.get("label"): c for row in settings["components"] for c in row["components"] if c["type"] == 2}
    assert labels["Remix mode"]["style"] == 2 and labels["Fast mode"]["style"] == 3
    assert labels["RAW Mode"]["custom_id"] == "MJ::Settings::Style::raw"
    status, body = await discord.click(settings, "MJ::Settings::RemixMode", flags=0)
    assert status == 404 and body["code"] == 10008  # ephemeral targets need message_flags 64
    start = len(gw.frames)
    status, _ = await discord.click(settings, "MJ::Settings::RemixMode", flags=64, session_id=gw.session_id)
    assert status == 204
    updated = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == settings["id"], start=start)
    labels = {c.get("label"): c for row in updated["components"] for c in row["components"] if c["type"] == 2}
    assert labels["Remix mode"]["style"] == 3 and alice.settings["midjourney"].remix
    start = len(gw.frames)
    await discord.click(settings, "MJ::Settings::VersionSelector", values=["5.2"], flags=64, session_id=gw.session_id)
    updated = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == settings["id"], start=start)
    assert "--v 5.2" in updated["content"]
    for needle in (
        "MJ::Settings::Style::raw",
        "MJ::Settings::Stylize::250",
        "MJ::Settings::RelaxMode",
        "MJ::Settings::HighVariabilityMode::0",
    ):
        start = len(gw.frames)
        await discord.click(settings, needle, flags=64, session_id=gw.session_id)
        await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == settings["id"], start=start)
    assert alice.mode == "relax" and not alice.settings["midjourney"].high_variability
    sim.update_account(alice, remix=False)
    result = await imagine_result(discord, gw, "with settings")
    assert result["content"].startswith("**with settings --v 5.2 --style raw --s 250** - ")
    assert result["content"].endswith("(relaxed)")
    start = len(gw.frames)
    await discord.click(settings, "MJ::Settings::ResetSettings", flags=64, session_id=gw.session_id)
    reset = await gw.event("MESSAGE_UPDATE", lambda d: d["id"] == settings["id"], start=start)
    assert reset["content"].endswith("`  --v 7`")  # the settings message always shows the model version
    status, listed, _ = await discord.get(f"/channels/{alice.channel_id}/messages")
    assert settings["id"] not in {m["id"] for m in listed}


async def test_niji_settings(discord: Discord, gw: Gateway) -> None:
    settings = await answer_to(discord, gw, "settings", application_id=NIJI_APP_ID)
    ids = custom_ids(settings)
    assert "MJ::Settings::NijiStyle::cute" in ids and "MJ::Settings::TurboMode" not in ids
    select = settings["components"][0]["components"][0]
    assert select["type"] == 3 and {o["value"] for o in select["options"]} == {"niji 6", "niji 5"}


async def test_prefer_commands(discord: Discord, gw: Gateway, alice: Account) -> None:
    on = await answer_to(discord, gw, "prefer", [sub("remix")])
    assert on["content"].startswith("Remix mode turned on") and on["interaction_metadata"]["name"] == "prefer remix"
    assert alice.settings["midjourney"].remix
    off = await answer_to(discord, gw, "prefer", [sub("remix")])
    assert off["content"].startswith("Remix mode turned off") and not alice.settings["midjourney"].remix
    variability = await answer_to(discord, gw, "prefer", [sub("variability")])
    assert "turned off" in variability["content"]
    suffix = await answer_to(discord, gw, "prefer", [sub("suffix", option("new_value", "--ar 16:9"))])
    assert suffix["content"] == "Custom suffix saved: `--ar 16:9`"
    bad = await reply_to(discord, gw, "prefer", [sub("suffix", option("new_value", "--bogus"))])
    assert bad["embeds"][0]["title"] == "Invalid parameter"
    bad_name = await reply_to(
        discord,
        gw,
        "prefer",
        [{"type": 2, "name": "option", "options": [sub("set", option("option", "no way"), option("value", "--s 1"))]}],
    )
    assert bad_name["embeds"][0]["title"] == "Invalid parameter"
    mine = await answer_to(
        discord,
        gw,
        "prefer",
        [{"type": 2, "name": "option", "options": [sub("set", option("option", "mine"), option("value", "--s 500"))]}],
    )
    assert "`--mine`" in mine["content"]
    listed = await answer_to(discord, gw, "prefer", [{"type": 2, "name": "option", "options": [sub("list")]}])
    assert "`--mine`: --s 500" in listed["content"]
    result = await imagine_result(discord, gw, "custom --mine")
    assert result["content"].startswith("**custom --s 500 --ar 16:9** - ")
    auto = await answer_to(discord, gw, "prefer", [sub("auto_dm")])
    assert auto["content"] == "Auto DM turned on!"


async def test_visibility_and_small_commands(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    refused = await reply_to(discord, gw, "stealth")
    assert "Pro and Mega" in refused["content"] and not alice.stealth
    sim.update_account(alice, plan="pro")
    assert "Stealth mode turned on" in (await reply_to(discord, gw, "stealth"))["content"] and alice.stealth
    assert "Public mode turned on" in (await reply_to(discord, gw, "public"))["content"] and not alice.stealth
    assert alice.mj_user_id in (await reply_to(discord, gw, "userid"))["content"]
    assert (await reply_to(discord, gw, "help"))["embeds"][0]["title"] == "Midjourney Bot"
    assert (await reply_to(discord, gw, "ask", [{"type": 3, "name": "question", "value": "why?"}]))["content"]
    subscribe = await reply_to(discord, gw, "subscribe")
    assert subscribe["components"][0]["components"][0]["style"] == 5
    tune = await reply_to(discord, gw, "tune", [{"type": 3, "name": "prompt", "value": "x"}])
    assert "not available" in tune["content"]


async def test_captcha_embed_flow(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway, alice: Account
) -> None:
    sim.trigger(alice, "captcha")
    notice = await reply_to(discord, gw, "imagine", [{"type": 3, "name": "prompt", "value": "blocked by captcha"}])
    embed = notice["embeds"][0]
    assert embed["title"] == "Action needed to continue" and embed["color"] == 16711680
    verify = find_custom_id(notice, "MJ::Captcha::")
    start = len(gw.frames)
    await discord.click(notice, verify, flags=64, session_id=gw.session_id)
    iframe = await gw.event("INTERACTION_IFRAME_MODAL_CREATE", start=start)
    assert iframe["title"] == "Action required to continue"
    token = iframe["custom_id"].split("::")[-1]
    base = sim.urls.discordsays_for(iframe["application"]["id"])
    async with http.get(f"{base}/captcha/api/c/{token}/ack", params={"hash": "1"}) as response:
        assert response.status == 200
        ack = await response.json()
    assert set(ack) >= {"hash", "token", "challenge_url"}
    async with http.get(ack["challenge_url"]) as response:
        assert response.status == 200
    assert alice.captcha is None
    result = await imagine_result(discord, gw, "after the captcha")
    assert result["attachments"]


async def test_captcha_iframe_variant(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.trigger(alice, "captcha", variant="iframe")
    start = len(gw.frames)
    await discord.imagine("cf check", session_id=gw.session_id)
    iframe = await gw.event("INTERACTION_IFRAME_MODAL_CREATE", start=start)
    assert iframe["title"] == "Action required to continue" and iframe["custom_id"].startswith("MJ::iframe::")
    assert iframe["iframe_path"].startswith("/captcha/embedded/")
    sim.clear_event(alice, "captcha")
    assert (await imagine_result(discord, gw, "cleared"))["attachments"]


@pytest.mark.parametrize(
    ("event", "title", "button"),
    [
        ("ban", "Blocked", None),
        ("pending_mod", "Pending mod message", "MJ::ModMessage::Ack::"),
        ("tos", "Tos not accepted", "MJ::Tos::Accept"),
        ("subscription_lapse", "Subscription required", None),
    ],
)
async def test_account_events(
    sim: Simulator, discord: Discord, gw: Gateway, alice: Account, event: str, title: str, button: str | None
) -> None:
    sim.trigger(alice, event)
    notice = await reply_to(discord, gw, "imagine", [{"type": 3, "name": "prompt", "value": "hello"}])
    assert notice["embeds"][0]["title"] == title and notice["flags"] == 64
    if event == "pending_mod":
        assert notice["embeds"][0]["color"] == 16711680
    if button is None:
        sim.clear_event(alice, event)
    else:
        start = len(gw.frames)
        await discord.click(notice, find_custom_id(notice, button), flags=64, session_id=gw.session_id)
        await gw.event(
            "MESSAGE_CREATE",
            lambda d: d["flags"] == 64 and ("continue" in d["content"].lower() or "Thank you" in d["content"]),
            start=start,
        )
    assert event not in alice.active_events()
    assert (await imagine_result(discord, gw, "back to normal"))["attachments"]


async def test_ban_blocks_info_too(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.trigger(alice, "ban")
    notice = await reply_to(discord, gw, "info")
    assert notice["embeds"][0]["title"] == "Blocked"


async def test_disable_token(sim: Simulator, discord: Discord, gw: Gateway, alice: Account) -> None:
    sim.trigger(alice, "disable_token")
    assert await gw.closed() == 4004
    status, body, _ = await discord.get("/users/@me")
    assert (status, body["code"]) == (401, 0)
    again = Gateway(sim.urls.gateway, alice.token, heartbeat=False)
    await again.open()
    await again.send(2, {"token": alice.token, "properties": {}})
    assert await again.closed() == 4004
    sim.clear_event(alice, "disable_token")
    assert (await discord.get("/users/@me"))[0] == 200


async def test_interaction_failure_when_bot_is_offline(sim: Simulator, discord: Discord, gw: Gateway) -> None:
    sim.bot_faults(offline=True)
    nonce = discord.nonce()
    start = len(gw.frames)
    status, _ = await discord.imagine("nobody home", nonce=nonce, session_id=gw.session_id)
    assert status == 204
    await gw.event("INTERACTION_CREATE", lambda d: d["nonce"] == nonce, start=start)
    failure = await gw.event("INTERACTION_FAILURE", start=start)
    assert failure["nonce"] == nonce and failure["reason_code"] == 2
    sim.bot_faults(offline=False, drop_interactions=1)
    nonce = discord.nonce()
    await discord.imagine("dropped once", nonce=nonce, session_id=gw.session_id)
    await gw.event("INTERACTION_FAILURE", lambda d: d["nonce"] == nonce, start=start)
    assert (await imagine_result(discord, gw, "answered again"))["attachments"]


async def test_shared_guild_members_see_public_messages_only(
    sim: Simulator, http: aiohttp.ClientSession, discord: Discord, gw: Gateway, alice: Account
) -> None:
    bob = sim.add_account("bob", guild_id=alice.guild_id)
    assert bob.channel_id == alice.channel_id and bob.guild_id == alice.guild_id
    watcher = Gateway(sim.urls.gateway, bob.token)
    await watcher.identify()
    result = await imagine_result(discord, gw, "seen by bob")
    seen = await watcher.event("MESSAGE_CREATE", lambda d: d["id"] == result["id"])
    assert seen["mentions"][0]["id"] == alice.user_id
    notice = await reply_to(discord, gw, "imagine", [{"type": 3, "name": "prompt", "value": "a cat --foo"}])
    await asyncio.sleep(0.05)
    assert notice["id"] not in {f["d"]["id"] for f in watcher.dispatches if f.get("t") == "MESSAGE_CREATE"}
    assert not [f for f in watcher.dispatches if f.get("t", "").startswith("INTERACTION_")]
    bob_client = Discord(http, sim.urls, bob)
    status, _ = await bob_client.click(result, custom_ids(result)[0])
    assert status == 204  # anyone in the channel may click; the upscale then belongs to bob
    await watcher.event("MESSAGE_CREATE", lambda d: d.get("content", "").endswith(f"Image #1 <@{bob.user_id}>"))
    await watcher.close()
