"""What the bot can talk about, named as the clinic speaks: one place for intents and sub-topics.

The FAQ import checks entries against this; the fallback turns intents into readable button labels.
"""

from __future__ import annotations

# Intents answered from the curated FAQ, with the label a client sees on a button.
FAQ_TOPICS: dict[str, str] = {
    "ask_benefits": "What back massage is good for",
    "ask_back_pain": "Massage for back pain",
    "ask_inflammation": "Inflamed or injured muscles",
    "ask_treatment_plan": "How many sessions I need",
    "ask_what_to_expect": "What happens in a session",
    "ask_massage_types": "Types of massage",
    "ask_clinic_info": "Opening hours, prices and location",
    "schedule_appointment": "Book an appointment",
    "cancel_appointment": "Cancel a booking",
    "reschedule_appointment": "Change a booking",
    "human_handoff": "Talk to a person",
}

# Sub-topics of the FAQ intents: entity name -> canonical values (NLU synonyms map onto these).
ENTITY_VALUES: dict[str, frozenset[str]] = {
    "benefit": frozenset(
        {
            "pain_relief",
            "circulation",
            "nerve_compression",
            "immune_system",
            "stress",
            "sleep",
            "relaxation",
            "muscle_recovery",
            "range_of_motion",
            "toxins",
            "illness",  # fever, a cold, flu: not while you're ill (a question, not a concern)
        }
    ),
    # "whole": the back as a whole ("which parts of the back do you work on").
    "back_region": frozenset({"upper", "mid", "lower", "whole"}),
    "massage_type": frozenset(
        {
            "back",
            "sports",
            "medical",
            "deep_tissue",
            "swedish",
            "hot_stone",
            "pregnancy",
            "infant",
            "geriatric",
        }
    ),
    "info_type": frozenset(
        {
            "hours",
            "location",
            "price",
            "parking",
            "phone",
            "payment",
            "access",
            "duration",
            "website",
        }
    ),
    "weekday": frozenset(
        {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    ),
}

# The intent whose entries answer a sub-topic when the client names it in a follow-up
# ("and for sleep?" is about benefits, "what about sunday" about opening hours).
ENTITY_HOME: dict[str, str] = {
    "benefit": "ask_benefits",
    "back_region": "ask_back_pain",
    "massage_type": "ask_massage_types",
    "info_type": "ask_clinic_info",
    "weekday": "ask_clinic_info",
}

# FAQ entries may answer every value of an entity with this `value`, filling {placeholders}
# from the value asked about (a weekday's opening hours).
ANY_VALUE = "*"


def label(intent: str) -> str:
    """A readable label for an intent, for buttons; unknown intents read as plain words."""
    return FAQ_TOPICS.get(intent, intent.replace("_", " ").capitalize())
