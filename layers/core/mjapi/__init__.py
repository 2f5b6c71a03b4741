"""mjapi: a self-hostable Midjourney API over a pool of Discord accounts.

This package is the shared core (deployed as a Lambda layer): models, storage, scheduling, the Discord
client, pure Midjourney message parsing, and the HTTP API routes used by both the Lambda and the local server.
"""

__version__ = "0.1.0"
