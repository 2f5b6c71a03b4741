"""Routes an accepted interaction to its command, button or modal handler, and is the bot's entry point for what
arrives outside `POST /interactions` (✉️ reactions, the Vary Region editor and captcha pages)."""

from __future__ import annotations

from typing import Any

from simulator import constants as C
from simulator.bot.button_handlers import ButtonHandlers
from simulator.bot.command_handlers import CommandHandlers
from simulator.bot.modal_handlers import ModalHandlers
from simulator.bot.types import BotServices, Ctx
from simulator.state import Account, MessageRecord

JSON = dict[str, Any]


class Router:
    def __init__(self, engine: BotServices) -> None:
        self.e = engine
        self.command_handlers = CommandHandlers(engine)
        self.button_handlers = ButtonHandlers(engine)
        self.modal_handlers = ModalHandlers(engine)
        self._commands = self.command_handlers.table()

    async def route(self, ctx: Ctx) -> None:
        if ctx.type == C.INTERACTION_APPLICATION_COMMAND:
            handler = self._commands.get(ctx.name) or self._commands.get(
                ctx.name.split(" ")[0], self.command_handlers.unavailable
            )
            await handler(ctx)
        elif ctx.type == C.INTERACTION_MESSAGE_COMPONENT:
            await self.button_handlers.click(ctx)  # by the action its custom_id parses to
        else:
            await self.modal_handlers.submit(ctx)  # by the kind its custom_id parses to

    # ----- outside the interactions endpoint -------------------------------------------------------------------
    async def on_reaction(self, account: Account, record: MessageRecord, emoji: str) -> None:
        await self.command_handlers.on_reaction(account, record, emoji)

    async def inpaint_submit(self, token: str, mask: str, prompt: str) -> tuple[int, JSON]:
        return await self.modal_handlers.inpaint_submit(token, mask, prompt)

    def image_info(self, token: str) -> tuple[int, JSON]:
        return self.modal_handlers.image_info(token)

    def captcha_ack(self, token: str) -> tuple[int, JSON]:
        return self.modal_handlers.captcha_ack(token)

    def captcha_solve(self, captcha_hash: str, token: str) -> bool:
        return self.modal_handlers.captcha_solve(captcha_hash, token)
