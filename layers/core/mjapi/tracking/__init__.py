"""Following jobs from the bot's gateway events: correlation, job transitions, account health, image re-hosting.

Synchronous and socket-free (the relay runs it in worker threads), so it is tested against moto with parsed events.
"""
