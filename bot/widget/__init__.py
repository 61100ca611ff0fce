"""Static files of the website chat widget (served by bot.channels.webchat)."""
