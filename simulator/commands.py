"""The bots' application commands: ids, versions, option schemas, and the command-index responses.

Midjourney's commands and versions are the ones of the captured index (bulkai fixture, protocol doc section 1.2).
Niji's ids/versions come from the protocol table where known; the few Niji commands no source shows (prefer, help,
stealth, public) use invented ids, documented in the README. Versions can be bumped at run time to simulate
Midjourney re-registering its commands, after which the old version is rejected with 50035 INVALID_VERSION.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from simulator.constants import MIDJOURNEY_APP_ID, NIJI_APP_ID

JSON = dict[str, Any]

# Option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
ATTACHMENT = 11


def _opt(kind: int, name: str, description: str, required: bool = False, **extra: Any) -> JSON:
    option: JSON = {"type": kind, "name": name, "description": description}
    if required:
        option["required"] = True
    else:
        option["required"] = False
    option.update(extra)
    return option


_IMAGINE_OPTS = [_opt(STRING, "prompt", "The prompt to imagine", True)]
_DESCRIBE_OPTS = [
    _opt(ATTACHMENT, "image", "The image to describe"),
    _opt(STRING, "link", "A link to the image to describe"),
]
_BLEND_OPTS = [
    _opt(ATTACHMENT, "image1", "First image to add to the blend", True),
    _opt(ATTACHMENT, "image2", "Second image to add to the blend", True),
    _opt(
        STRING,
        "dimensions",
        "The dimensions of the image. If not specified, the image will be square.",
        choices=[
            {"name": "Portrait", "value": "--ar 2:3"},
            {"name": "Square", "value": "--ar 1:1"},
            {"name": "Landscape", "value": "--ar 3:2"},
        ],
    ),
    _opt(ATTACHMENT, "image3", "Third image to add to the blend (optional)"),
    _opt(ATTACHMENT, "image4", "Fourth image to add to the blend (optional)"),
    _opt(ATTACHMENT, "image5", "Fifth image to add to the blend (optional)"),
]
_SHORTEN_OPTS = [_opt(STRING, "prompt", "The prompt to shorten", True)]
_SHOW_OPTS = [_opt(STRING, "job_id", "The job ID of the job you want to show.", True)]
_ASK_OPTS = [_opt(STRING, "question", "What is the question?", True)]
_TUNE_OPTS = [_opt(STRING, "prompt", "The base prompt to use for the tuner", True)]
_PREFER_OPTS = [
    {
        "type": SUB_COMMAND_GROUP,
        "name": "option",
        "description": "Manage custom options.",
        "options": [
            {
                "type": SUB_COMMAND,
                "name": "set",
                "description": "Set a custom option.",
                "options": [
                    _opt(STRING, "option", "The name of the option", True, autocomplete=True),
                    _opt(STRING, "value", "The value of the option (leave empty to delete)"),
                ],
            },
            {"type": SUB_COMMAND, "name": "list", "description": "View your current custom options."},
        ],
    },
    {
        "type": SUB_COMMAND,
        "name": "auto_dm",
        "description": "Whether or not to automatically send job results to your DMs.",
    },
    {
        "type": SUB_COMMAND,
        "name": "suffix",
        "description": "Suffix to automatically add to the end of every prompt. Leave empty to remove.",
        "options": [_opt(STRING, "new_value", "The new suffix")],
    },
    {"type": SUB_COMMAND, "name": "remix", "description": "Toggle remix mode."},
    {"type": SUB_COMMAND, "name": "variability", "description": "Toggle variability mode."},
]


GUILD_ONLY = "guild_only"


@dataclass
class CommandDef:
    id: str
    name: str
    version: str
    description: str
    options: list[JSON] = field(default_factory=list)
    type: int = 1
    contexts: list[int] = field(default_factory=lambda: [0, 1, 2])
    integration_types: list[int] = field(default_factory=lambda: [0, 1])
    rank: int | None = None
    scope: str = "everywhere"

    def __post_init__(self) -> None:
        if self.scope == GUILD_ONLY:
            self.contexts = [0, 1]
            self.integration_types = [0]

    def to_json(self, application_id: str) -> JSON:
        data: JSON = {
            "id": self.id,
            "type": self.type,
            "application_id": application_id,
            "version": self.version,
            "name": self.name,
        }
        if self.type == 1:
            data["description"] = self.description
        if self.options:
            data["options"] = copy.deepcopy(self.options)
        data["dm_permission"] = True
        data["contexts"] = list(self.contexts)
        data["integration_types"] = list(self.integration_types)
        if self.rank is not None:
            data["global_popularity_rank"] = self.rank
        return data


@dataclass
class BotApp:
    """One bot application (Midjourney or Niji)."""

    key: str  # "midjourney" | "niji"
    id: str
    name: str
    username: str
    discriminator: str
    avatar: str
    description: str
    flags: str
    commands: list[CommandDef]

    def user_json(self) -> JSON:
        return {
            "id": self.id,
            "username": self.username,
            "discriminator": self.discriminator,
            "global_name": None,
            "avatar": self.avatar,
            "avatar_decoration_data": None,
            "bot": True,
            "public_flags": 589824,
            "flags": 589824,  # newer Discord payloads carry `flags` and `clan` on authors too
            "clan": None,
            "primary_guild": None,
        }

    def application_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "icon": self.avatar,
            "bot": {**self.user_json(), "flags": 589824, "accent_color": None, "banner": None, "banner_color": None},
            "bot_id": self.id,
            "flags": self.flags,
        }

    def modal_application_json(self) -> JSON:
        """The `application` object carried by INTERACTION_MODAL_CREATE / IFRAME_MODAL_CREATE."""
        return {
            "id": self.id,
            "name": self.name,
            "icon": self.avatar,
            "description": self.description,
            "bot_public": True,
            "bot_require_code_grant": False,
            "flags": int(self.flags),
        }


def _mj_commands() -> list[CommandDef]:
    return [
        CommandDef(
            "938956540159881230",
            "imagine",
            "1237876415471554623",
            "Create images with Midjourney",
            _IMAGINE_OPTS,
            rank=1,
        ),
        CommandDef(
            "1092492867185950852",
            "describe",
            "1237876415471554625",
            "Writes a prompt based on your image.",
            _DESCRIBE_OPTS,
            rank=2,
        ),
        CommandDef("972289487818334209", "info", "1237876415735660565", "View information about your profile.", rank=3),
        CommandDef(
            "1062880104792997970",
            "blend",
            "1237876415471554624",
            "Blend images together seamlessly!",
            _BLEND_OPTS,
            rank=4,
        ),
        CommandDef(
            "1000850743479255081", "settings", "1237876415790055475", "View and adjust your personal settings.", rank=5
        ),
        CommandDef(
            "1169435442328911902",
            "show",
            "1247736572414001224",
            "Shows the job view based on job id.",
            _SHOW_OPTS,
            rank=6,
        ),
        CommandDef(
            "984273800587776053",
            "prefer",
            "1237876415790055476",
            "Set your preferences.",
            _PREFER_OPTS,
            rank=7,
            scope=GUILD_ONLY,
        ),
        CommandDef("987795925764280351", "subscribe", "1237876415735660568", "Subscribe to Midjourney", rank=8),
        CommandDef(
            "972289487818334213", "relax", "1237876415735660573", "Switch to relax mode", rank=9, scope=GUILD_ONLY
        ),
        CommandDef(
            "972289487818334212", "fast", "1237876415735660572", "Switch to fast mode", rank=10, scope=GUILD_ONLY
        ),
        CommandDef(
            "994261739745050684", "ask", "1237876415471554622", "Get an answer to a question.", _ASK_OPTS, rank=11
        ),
        CommandDef(
            "1121575372539039774",
            "shorten",
            "1247736572414001223",
            "Analyzes and shortens a prompt.",
            _SHORTEN_OPTS,
            rank=12,
        ),
        CommandDef(
            "1065569343456419860", "stealth", "1259937291770658936", "Switch to stealth mode", rank=13, scope=GUILD_ONLY
        ),
        CommandDef("941673664900898876", "help", "1237876415471554629", "Shows help for the bot.", rank=14),
        CommandDef(
            "1169440360339091476",
            "tune",
            "1237876415471554627",
            "Create a shareable style tuner based on a prompt.",
            _TUNE_OPTS,
            rank=15,
            scope=GUILD_ONLY,
        ),
        CommandDef(
            "1267632559278526577",
            "list_personalize_codes",
            "1267632559278526578",
            "List your personalize codes!",
            rank=16,
            scope=GUILD_ONLY,
        ),
        CommandDef(
            "1124132684143271996", "turbo", "1237876415790055474", "Switch to turbo mode", rank=17, scope=GUILD_ONLY
        ),
        CommandDef("1136041075614683196", "userid", "1237876415735660566", "Get your user ID", rank=18),
        CommandDef(
            "1181338718158721086", "list_tuners", "1237876415471554628", "List your tuners!", rank=19, scope=GUILD_ONLY
        ),
        CommandDef(
            "986816068012081172",
            "invite",
            "1237876415735660567",
            "Get an invite link to the Midjourney Discord server",
            rank=20,
            scope=GUILD_ONLY,
        ),
        CommandDef(
            "1199869998538162256", "feedback", "1237876415735660564", "Submit your feedback!", rank=21, scope=GUILD_ONLY
        ),
        CommandDef(
            "972289487818334211", "public", "1237876415735660571", "Switch to public mode", rank=22, scope=GUILD_ONLY
        ),
        CommandDef("987795925764280352", "Cancel Job", "1237876415790055477", "", type=3),
        CommandDef("987795925764280353", "DM Results", "1237876415790055478", "", type=3),
    ]


def _niji_commands() -> list[CommandDef]:
    return [
        CommandDef(
            "1023054140580057099",
            "imagine",
            "1248805223892254774",
            "Create images with niji・journey",
            _IMAGINE_OPTS,
            rank=1,
        ),
        CommandDef(
            "1092683500743831652",
            "describe",
            "1248805223892254776",
            "Writes a prompt based on your image.",
            _DESCRIBE_OPTS,
            rank=2,
        ),
        CommandDef(
            "1023054140634579025", "settings", "1493662157915684906", "View and adjust your personal settings.", rank=3
        ),
        CommandDef(
            "1061216934374424697",
            "blend",
            "1248805223892254775",
            "Blend images together seamlessly!",
            _BLEND_OPTS,
            rank=4,
        ),
        CommandDef(
            "1023054140580057102", "info", "1248805223892254782", "View information about your profile.", rank=5
        ),
        CommandDef(
            "1023054140580057101",
            "show",
            "1248805223892254781",
            "Shows the job view based on job id.",
            _SHOW_OPTS,
            rank=6,
        ),
        CommandDef(
            "1023054140634579026",
            "prefer",
            "1248805223925940263",
            "Set your preferences.",
            _PREFER_OPTS,
            rank=7,
            scope=GUILD_ONLY,
        ),
        CommandDef(
            "1023054140634579024", "relax", "1248805223925940262", "Switch to relax mode", rank=8, scope=GUILD_ONLY
        ),
        CommandDef(
            "1023054140580057107", "fast", "1248805223925940261", "Switch to fast mode", rank=9, scope=GUILD_ONLY
        ),
        CommandDef(
            "1121575453916942376",
            "shorten",
            "1248805223892254777",
            "Analyzes and shortens a prompt.",
            _SHORTEN_OPTS,
            rank=10,
        ),
        CommandDef(
            "1023054140634579027", "stealth", "1248805223925940264", "Switch to stealth mode", rank=11, scope=GUILD_ONLY
        ),
        CommandDef(
            "1023054140634579028", "public", "1248805223925940265", "Switch to public mode", rank=12, scope=GUILD_ONLY
        ),
        CommandDef("1023054140580057098", "help", "1248805223892254773", "Shows help for the bot.", rank=13),
    ]


def build_apps() -> dict[str, BotApp]:
    """Fresh bot applications (commands at their initial versions), keyed by application id."""
    mj = BotApp(
        key="midjourney",
        id=MIDJOURNEY_APP_ID,
        name="Midjourney Bot",
        username="Midjourney Bot",
        discriminator="9282",
        avatar="f6ce562a6b4979c4b1cbc5b436d3be76",
        description=(
            "Generate an image based on a text prompt in under 60 seconds using the </imagine:938956540159881230> "
            "command!\n\nhttps://docs.midjourney.com/docs/terms-of-service"
        ),
        flags="94371840",
        commands=_mj_commands(),
    )
    niji = BotApp(
        key="niji",
        id=NIJI_APP_ID,
        name="niji・journey Bot",
        username="niji・journey Bot",
        discriminator="5138",
        avatar="2b7a6e2ec0ea4bb1d7ad87e1b9a4e1c2",
        description="Generate anime-style images with the </imagine:1023054140580057099> command!",
        flags="94371840",
        commands=_niji_commands(),
    )
    return {mj.id: mj, niji.id: niji}


INITIAL_INDEX_VERSION = "1267632560465248388"


class CommandRegistry:
    """Commands of all bots, with run-time version bumps."""

    def __init__(self) -> None:
        self.apps = build_apps()
        self.index_version = INITIAL_INDEX_VERSION
        self._index_cache: dict[tuple[str, ...], tuple[str, JSON]] = {}

    def reset(self) -> None:
        self.apps = build_apps()
        self.index_version = INITIAL_INDEX_VERSION
        self._index_cache.clear()

    def app(self, application_id: str) -> BotApp | None:
        return self.apps.get(application_id)

    def app_by_key(self, key: str) -> BotApp | None:
        for app in self.apps.values():
            if key in (app.key, app.id):
                return app
        return None

    def find(self, application_id: str, command_id: str) -> CommandDef | None:
        app = self.apps.get(application_id)
        if app is None:
            return None
        return next((c for c in app.commands if c.id == command_id), None)

    def find_by_name(self, application_id: str, name: str) -> CommandDef | None:
        app = self.apps.get(application_id)
        if app is None:
            return None
        return next((c for c in app.commands if c.name == name), None)

    def bump(self, application_id: str, name: str, new_version: str) -> CommandDef:
        """Give a command a new version (as when Midjourney re-registers commands); the old one becomes stale."""
        command = self.find_by_name(application_id, name)
        if command is None:
            raise KeyError(f"unknown command {name!r} for application {application_id}")
        command.version = new_version
        self.index_version = new_version
        return command

    def _commands_json(self, app_ids: list[str], predicate: Any = None) -> list[JSON]:
        out: list[JSON] = []
        for app_id in app_ids:
            app = self.apps[app_id]
            for command in app.commands:
                if predicate is None or predicate(command):
                    out.append(command.to_json(app.id))
        out.sort(key=lambda c: (c.get("global_popularity_rank", 999), c["application_id"] != app_ids[0]))
        return out

    def index(self, app_ids: list[str]) -> JSON:
        """Body of `GET .../application-command-index` (cached until a version changes; treat as read-only)."""
        key = tuple(app_ids)
        cached = self._index_cache.get(key)
        if cached is not None and cached[0] == self.index_version:
            return cached[1]
        body = self._build_index(app_ids)
        self._index_cache[key] = (self.index_version, body)
        return body

    def _build_index(self, app_ids: list[str]) -> JSON:
        return {
            "applications": [self.apps[a].application_json() for a in app_ids],
            "application_commands": self._commands_json(app_ids),
            "version": self.index_version,
        }

    def search(
        self, app_ids: list[str], *, command_type: int, query: str | None, limit: int, include_applications: bool
    ) -> JSON:
        """Body of the legacy `GET /channels/{id}/application-commands/search`."""
        needle = (query or "").lower()

        def keep(command: CommandDef) -> bool:
            return command.type == command_type and command.name.lower().startswith(needle)

        commands = self._commands_json(app_ids, keep)[:limit]
        body: JSON = {
            "application_commands": commands,
            "cursor": {"next": None, "previous": None, "repaired": None},
        }
        if include_applications:
            used = {c["application_id"] for c in commands}
            body["applications"] = [self.apps[a].application_json() for a in app_ids if a in used]
        return body
