"""Everything that ties the clinic's domain to Rasa 3.6: the server, channels, NLU components,
persistence and the few patches of Rasa's internals that have no public extension point."""
