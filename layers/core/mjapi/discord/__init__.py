"""Discord: REST client, interaction payloads, and the sans-I/O gateway protocol."""
