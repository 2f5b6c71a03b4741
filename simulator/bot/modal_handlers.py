"""What the bots do when a modal is submitted (remix, pan, custom zoom, imagine/describe prompts) and what the
iframe pages submit (the Vary Region editor, the captcha page).

Submits are routed by the kind the modal's custom_id parses to (`mjapi.midjourney.custom_ids.parse_modal_id`), and the
values the bot needs (image index, remix strength, pan direction) are read from that parsed id.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mjapi.midjourney.actions import ModalKind
from mjapi.midjourney.custom_ids import ModalId, parse_modal_id
from simulator import constants as C
from simulator.bot.handler_base import HandlerBase, ModalHandler
from simulator.bot.types import BotServices, Ctx, PendingIframe, PendingModal
from simulator.ids import derive_seed
from simulator.images import probe_image
from simulator.prompts import ParsedPrompt, normalise

JSON = dict[str, Any]


def iframe_token(custom_id: str) -> str:
    """The token of an iframe modal, from its custom_id (`MJ::iframe::<token>`) or the bare token."""
    parsed = parse_modal_id(custom_id)
    return parsed.token if parsed.kind is ModalKind.IFRAME and parsed.token else custom_id


class ModalHandlers(HandlerBase):
    def __init__(self, engine: BotServices) -> None:
        super().__init__(engine)
        self._table = self.table()

    def table(self) -> dict[ModalKind, ModalHandler]:
        """Handlers by the kind a modal's custom_id parses to."""
        return {
            ModalKind.REMIX: self.remix_submit,
            ModalKind.PAN: self.pan_submit,
            ModalKind.CUSTOM_ZOOM: self.zoom_submit,
            ModalKind.IMAGINE: self.imagine_modal_submit,
            ModalKind.PICREADER: self.imagine_modal_submit,
        }

    async def submit(self, ctx: Ctx) -> None:
        """Route a modal submit (Discord has matched it to a modal the bot opened) by its parsed kind."""
        assert ctx.modal is not None
        modal_id = parse_modal_id(ctx.modal.custom_id)
        await self._table[modal_id.kind](ctx, modal_id)

    # ----- modal submits ---------------------------------------------------------------------------------------
    def _modal_prompt(self, ctx: Ctx, *, allow_zoom: bool = False) -> tuple[PendingModal, ParsedPrompt] | None:
        """The submitted modal and its prompt, parsed like a command's; None when the account's state or the prompt
        made the bot refuse (its notice is already sent)."""
        modal = ctx.modal
        assert modal is not None
        if self.e.gate(ctx):
            return None
        parsed = self.parse(ctx, ctx.values.get(modal.inputs[0], ""), allow_zoom=allow_zoom)
        return None if parsed is None else (modal, parsed)

    async def remix_submit(self, ctx: Ctx, modal_id: ModalId) -> None:
        submitted = self._modal_prompt(ctx)
        if submitted is None:
            return
        modal, parsed = submitted
        assert modal.job is not None
        strong = modal_id.strong is not False  # older bots' ids carry no strength: strong, like V1-V4
        word = "Remix" if parsed.display != modal.job.prompt else "Variations"
        label = f"{word} ({'Strong' if strong else 'Subtle'}) by"
        request = self.child(
            modal.job,
            "variation",
            label,
            index=modal_id.index or 1,
            prompt=parsed.display,
            words=parsed.words,
            ar=parsed.ar,
            version=parsed.version,
            parent_message=modal.message,
        )
        await self.e.submit(ctx, [request])

    async def pan_submit(self, ctx: Ctx, modal_id: ModalId) -> None:
        submitted = self._modal_prompt(ctx)
        if submitted is None:
            return
        modal, parsed = submitted
        assert modal.job is not None
        assert modal_id.direction is not None
        await self.e.submit(ctx, [self.pan_request(modal.job, modal_id.direction, parsed.display, modal.message)])

    async def zoom_submit(self, ctx: Ctx, modal_id: ModalId) -> None:
        submitted = self._modal_prompt(ctx, allow_zoom=True)
        if submitted is None:
            return
        modal, parsed = submitted
        assert modal.job is not None
        factor = parsed.zoom or 2.0
        request = self.child(
            modal.job,
            "zoom",
            "Zoom Out by",
            zoom=factor,
            prompt=parsed.display,
            words=parsed.words,
            parent_message=modal.message,
        )
        await self.e.submit(ctx, [request])

    async def imagine_modal_submit(self, ctx: Ctx, modal_id: ModalId) -> None:
        """A prompt to imagine: a reroll with Remix on (the modal has the grid's job), or a described or shortened
        prompt (no job)."""
        submitted = self._modal_prompt(ctx)
        if submitted is None:
            return
        modal, parsed = submitted
        request = self.request(parsed, kind="reroll" if modal.job is not None else "imagine")
        request.parent = modal.job
        request.parent_message = modal.message if modal.job is not None else None
        await self.e.submit(ctx, [request])

    # ----- iframe pages (discordsays) ---------------------------------------------------------------------------------
    async def inpaint_submit(self, token: str, mask: str, prompt: str) -> tuple[int, JSON]:
        """`POST .../inpaint/api/submit-job`: start a Vary (Region) job for the iframe token."""
        iframe = self.e.iframes.get(iframe_token(token))
        if iframe is None or iframe.kind != "inpaint" or iframe.job is None:
            return 404, {"success": False, "error": "Unknown or expired customId"}
        if iframe.used:
            return 409, {"success": False, "error": "This editor session was already submitted"}
        raw = mask.split("base64,", 1)[-1]
        try:
            blob = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return 400, {"success": False, "error": "mask is not valid base64"}
        if probe_image(blob) is None:
            return 400, {"success": False, "error": "mask is not a PNG/WebP image"}
        iframe.used = True
        ctx = self._iframe_ctx(iframe)
        parent = iframe.job
        label = "Variations (Region) by"
        parsed: ParsedPrompt | None = None
        if prompt and normalise(prompt) != parent.prompt:
            parsed = self.parse(ctx, prompt)
            if parsed is None:
                return 200, {"success": True}
            label = "Remix (Region) by"
        request = self.child(
            parent,
            "inpaint",
            label,
            image_kind="grid",
            parent_message=iframe.message,
            palette_seed=derive_seed(self.e.config.seed, "inpaint", parent.palette_seed, blob[:64]),
        )
        if parsed is not None:
            request.prompt, request.words, request.ar = parsed.display, parsed.words, parsed.ar
        await self.e.submit(ctx, [request])
        return 200, {"success": True}

    def _iframe_ctx(self, iframe: PendingIframe) -> Ctx:
        ctx = Ctx(
            iframe.origin.interaction_id,
            C.INTERACTION_MESSAGE_COMPONENT,
            iframe.account,
            iframe.app,
            iframe.channel,
            iframe.origin.session_id,
            None,
            {"custom_id": iframe.pressed} if iframe.pressed else {},
            iframe.origin,
        )
        ctx.message = iframe.message
        ctx.acked = True
        ctx.nonce_used = True
        return ctx

    def image_info(self, token: str) -> tuple[int, JSON]:
        """`GET .../inpaint/api/get-image-info/0/0/{token}`: what the Vary Region editor shows."""
        iframe = self.e.iframes.get(iframe_token(token))
        if iframe is None or iframe.kind != "inpaint" or iframe.job is None:
            return 404, {"success": False, "error": "Unknown or expired customId"}
        job = iframe.job
        record = next((a for a in self.world.attachments.values() if a.spec == job.image), None)
        return 200, {
            "success": True,
            "jobId": job.id,
            "imageUrl": self.e.cdn.url(record) if record else None,
            "width": job.image.width,
            "height": job.image.height,
            "prompt": job.prompt,
            "remix": job.account.settings[job.app.key].remix,
        }

    def captcha_ack(self, token: str) -> tuple[int, JSON]:
        iframe = self.e.iframes.get(iframe_token(token))
        if iframe is None or iframe.kind != "captcha" or not iframe.account.captcha:
            return 404, {"error": "Unknown captcha"}
        return 200, {"hash": iframe.account.captcha, "token": token}

    def captcha_solve(self, captcha_hash: str, token: str) -> bool:
        iframe = self.e.iframes.get(token)
        if iframe is None or iframe.kind != "captcha" or iframe.account.captcha != captcha_hash:
            return False
        iframe.account.captcha = None
        iframe.used = True
        return True
