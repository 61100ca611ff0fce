"""The Rasa SDK action server, started with our log redaction and without open CORS.

`python -m bot.rasa_adapter.action_server --actions actions --port 5055` takes rasa_sdk's own
arguments.
Differences from `python -m rasa_sdk`: a quiet start (`startup`); phone numbers and e-mail
addresses are masked in every log line (actions log what clients typed); CORS is off unless
`--cors` is given (only the Rasa server calls this, never a browser); it listens on SANIC_HOST,
127.0.0.1 unless set, since only Rasa should reach it; and it refuses to start with a booking or
hand-off webhook that has no signing secret (the actions would otherwise fail at the first
booking), a service URL whose password would be misread, or the sample clinic in production.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from bot.rasa_adapter.startup import prepare_process

    prepare_process()
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    from bot.clinic.booking.config import BookingConfig, BookingConfigError
    from bot.clinic.facts import sample_clinic_refusal
    from bot.clinic.redaction import install_log_redaction
    from bot.settings import ConfigError, Settings, is_production

    try:  # configuration mistakes first, each with a message that names the setting
        settings = Settings.from_env()  # also checks the service URLs' credentials
        BookingConfig.from_env()
        refusal = sample_clinic_refusal(settings.clinic_file, is_production())
    except (ConfigError, BookingConfigError) as error:
        print(f"The action server can't start: {error}", file=sys.stderr)
        return 2
    if refusal is not None:
        print(f"The action server can't start: {refusal}", file=sys.stderr)
        return 2
    install_log_redaction()
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    parser = create_argument_parser()
    parser.set_defaults(cors=None)
    main_from_args(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
