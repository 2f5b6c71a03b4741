"""Domain operations shared by both API faces (/midjourney/* and /mj/*), the dispatcher and the relay."""
