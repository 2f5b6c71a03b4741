"""The Midjourney and Niji bots: interaction intake, commands, buttons, modals and the job lifecycle."""
