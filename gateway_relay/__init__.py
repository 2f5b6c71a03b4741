"""The gateway relay: one Discord gateway session per account, turning the bot's messages into job updates."""
