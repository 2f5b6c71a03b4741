"""Pressing a button of a finished job: which button, what it needs (a prompt, a mask), and the job it makes."""

from __future__ import annotations

import base64
import binascii

from mjapi.images import InvalidImage, inspect_image, store_image
from mjapi.midjourney.actions import ButtonAction, Opens
from mjapi.midjourney.custom_ids import CustomId, parse_custom_id
from mjapi.midjourney.prompt import MAX_MODAL_PROMPT_LENGTH
from mjapi.models import ApiToken, Button, Job, JobStatus
from mjapi.service.context import Context
from mjapi.service.errors import ApiError, bad_request
from mjapi.service.follow_ups import child_job, submit_child
from mjapi.service.operations import check_prompt_or_400, imagine


def find_button(parent: Job, wanted: str) -> Button:
    """The parent's button with this custom_id, or else with this label or emoji ("U1", "🔄", "Zoom Out 2x")."""
    buttons = [b for row in parent.buttons for b in row]
    for button in buttons:
        if button.custom_id == wanted:
            return button
    folded = wanted.strip().casefold()
    named = [b for b in buttons if folded and folded in {(b.label or "").casefold(), (b.emoji or "").casefold()}]
    if len(named) == 1:
        return named[0]
    raise bad_request("unknown_action", "This action is not one of the job's buttons (give its custom_id or label).")


def decode_mask(text: str, *, max_bytes: int) -> bytes:
    """A Vary (Region) mask from a PNG data URL or bare base64: white marks the area to repaint."""
    raw = text.split("base64,", 1)[-1].strip()
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request("invalid_mask", "The mask must be a PNG as a data URL or base64.") from exc
    if len(data) > max_bytes:
        raise ApiError(413, "mask_too_large", f"The mask is larger than {max_bytes} bytes.")
    try:
        facts = inspect_image(data)
    except InvalidImage as exc:
        raise bad_request("invalid_mask", f"The mask is not a readable image: {exc}") from exc
    if facts.extension != "png":
        raise bad_request("invalid_mask", "The mask must be a PNG (black background, the region to repaint white).")
    return data


def _inputs(ctx: Context, pressed: CustomId, prompt: str | None, mask: str | None) -> dict[str, str]:
    """Check the extra inputs a button takes and turn them into job options."""
    spec = pressed.spec
    options: dict[str, str] = {}
    if prompt is not None and prompt.strip():
        if spec.opens is Opens.NOTHING:
            raise bad_request("prompt_not_accepted", f"The {spec.action.value} button takes no prompt.")
        options["prompt"] = check_prompt_or_400(ctx, prompt, max_length=MAX_MODAL_PROMPT_LENGTH).normalized
    if spec.action is ButtonAction.VARY_REGION:
        if not mask:
            raise bad_request("mask_required", "Vary (Region) needs 'mask': a PNG whose white area is repainted.")
        data = decode_mask(mask, max_bytes=ctx.settings.max_upload_bytes)
        options["mask_key"] = store_image(data, prefix="masks").key
    elif mask:
        raise bad_request("mask_not_accepted", "Only Vary (Region) takes a mask.")
    return options


def press(
    ctx: Context,
    token: ApiToken,
    *,
    parent: Job,
    action: str,
    prompt: str | None = None,
    mask: str | None = None,
    notify_hook: str | None = None,
    state: str | None = None,
) -> list[Job]:
    """Press a button of ``parent``'s result as the account that owns the message; each new job costs one use.

    A prompt goes into the form the button opens (remix, pan, custom zoom, a described prompt); when the bot opens one
    and no prompt was given, the relay submits the job's prompt (or the bot's prefilled text). Describe's 🎉 "Imagine
    all" makes one imagine per described prompt, as the bot does.
    """
    if parent.status != JobStatus.SUCCEEDED or not parent.result_message_id:
        raise ApiError(409, "job_not_finished", "Actions are available once the job has succeeded.")
    button = find_button(parent, action)
    pressed = parse_custom_id(button.custom_id)
    if pressed.action is ButtonAction.DESCRIBE_IMAGINE_ALL:
        return _imagine_all(ctx, token, parent, notify_hook=notify_hook, state=state)
    if not pressed.spec.makes_job:
        raise bad_request("not_a_job_action", f"The {pressed.action.value} button does not make a new image.")
    options = _inputs(ctx, pressed, prompt, mask)
    child = child_job(
        parent, button.custom_id, token_hash=token.token_hash, options=options, notify_hook=notify_hook, state=state
    )
    return [submit_child(ctx, child, charge=pressed.spec.charged)]


def _imagine_all(
    ctx: Context, token: ApiToken, parent: Job, *, notify_hook: str | None, state: str | None
) -> list[Job]:
    if not parent.prompts:
        raise bad_request("no_prompts", "This job has no described prompts to imagine.")
    made = []
    for prompt in parent.prompts:
        job = imagine(ctx, token, prompt=prompt, bot=parent.bot, notify_hook=notify_hook, state=state)
        ctx.jobs.add_child(parent.id, job.id)
        made.append(job)
    return made
