"""Fixed facts of the simulated world: application ids, colours, embed titles, gateway codes."""

from __future__ import annotations

from typing import Final

MIDJOURNEY_APP_ID: Final = "936929561302675456"
NIJI_APP_ID: Final = "1022952195194359889"

DISCORD_EPOCH_MS: Final = 1420070400000

# Embed colours used by the bot (ET/TA/NZ notes in the protocol doc).
COLOR_ERROR: Final = 16711680
COLOR_WARNING: Final = 16776960
COLOR_SUCCESS: Final = 65280
COLOR_INFO: Final = 5793266  # Discord "blurple"; used for /info, /describe and /shorten embeds.

# Message flags.
FLAG_EPHEMERAL: Final = 64
FLAG_LOADING: Final = 128

# Message types.
MSG_DEFAULT: Final = 0
MSG_REPLY: Final = 19
MSG_CHAT_INPUT_COMMAND: Final = 20

# Interaction types.
INTERACTION_APPLICATION_COMMAND: Final = 2
INTERACTION_MESSAGE_COMPONENT: Final = 3
INTERACTION_MODAL_SUBMIT: Final = 5

# Gateway opcodes.
OP_DISPATCH: Final = 0
OP_HEARTBEAT: Final = 1
OP_IDENTIFY: Final = 2
OP_PRESENCE_UPDATE: Final = 3
OP_VOICE_STATE_UPDATE: Final = 4
OP_RESUME: Final = 6
OP_RECONNECT: Final = 7
OP_REQUEST_GUILD_MEMBERS: Final = 8
OP_INVALID_SESSION: Final = 9
OP_HELLO: Final = 10
OP_HEARTBEAT_ACK: Final = 11

# Gateway close codes (discord-api-docs Opcodes_and_Status_Codes).
CLOSE_UNKNOWN_ERROR: Final = 4000
CLOSE_UNKNOWN_OPCODE: Final = 4001
CLOSE_DECODE_ERROR: Final = 4002
CLOSE_NOT_AUTHENTICATED: Final = 4003
CLOSE_AUTHENTICATION_FAILED: Final = 4004
CLOSE_ALREADY_AUTHENTICATED: Final = 4005
CLOSE_INVALID_SEQ: Final = 4007
CLOSE_RATE_LIMITED: Final = 4008
CLOSE_SESSION_TIMED_OUT: Final = 4009
CLOSE_INVALID_API_VERSION: Final = 4012

# Titles of the bot's error and notice embeds (protocol doc section 3.5).
TITLE_BANNED_PROMPT: Final = "Banned prompt detected"
TITLE_INVALID_PARAMETER: Final = "Invalid parameter"
TITLE_INVALID_LINK: Final = "Invalid link"
TITLE_INVALID_IMAGE: Final = "Invalid image"
TITLE_EMPTY_PROMPT: Final = "Empty prompt"
TITLE_JOB_QUEUED: Final = "Job queued"
TITLE_QUEUE_FULL: Final = "Queue full"
TITLE_CREDITS_EXHAUSTED: Final = "Credits exhausted"
TITLE_ACTION_NEEDED: Final = "Action needed to continue"
TITLE_ACTION_REQUIRED: Final = "Action required to continue"
TITLE_PENDING_MOD: Final = "Pending mod message"
TITLE_SUBSCRIPTION_REQUIRED: Final = "Subscription required"
TITLE_BLOCKED: Final = "Blocked"
TITLE_TOS: Final = "Tos not accepted"
TITLE_JOB_ACTION_RESTRICTED: Final = "Job action restricted"
TITLE_IMAGE_FILTER: Final = "Request cancelled due to image filters"
TITLE_COULD_NOT_COMPLETE: Final = "Sorry! Could not complete the job!"
TITLE_DUPLICATE_IMAGES: Final = "Duplicate images detected"
TITLE_INVALID_REQUEST: Final = "Invalid request"

# Magic words (case-insensitive whole words in the prompt text) that force deterministic outcomes.
MAGIC_FILTER: Final = "simfilter"  # image-filter cancellation as a MESSAGE_UPDATE mid-job
MAGIC_FAIL: Final = "simfail"  # "Sorry! Could not complete the job!" mid-job
MAGIC_STALL: Final = "simstall"  # progress stops (the job never finishes until cancelled or reset)
MAGIC_SLOW: Final = "simslow"  # the job takes five times longer
MAGIC_DUPLICATE: Final = "simduplicate"  # "Duplicate images detected" at submission
DEFAULT_BANNED_WORDS: Final = ("simbanned", "simforbidden")

MAX_UPLOAD_BYTES: Final = 25 * 1024 * 1024
