"""`make bench`: our bot against Rasa's stock `rasa init` bot, side by side (see bench.run)."""
