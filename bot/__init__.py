"""Massage clinic chatbot core: domain logic that knows nothing of Rasa."""
