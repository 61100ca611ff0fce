"""Static files of the website chat widget (served by bot.rasa_adapter.channels.webchat)."""
