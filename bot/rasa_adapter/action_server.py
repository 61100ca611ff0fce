"""The Rasa SDK action server, started with our log redaction and without open CORS.

`python -m bot.rasa_adapter.action_server --actions actions --port 5055` takes rasa_sdk's own
arguments.
Differences from `python -m rasa_sdk`: a quiet start (`startup`); phone numbers and e-mail
addresses are masked in every log line (actions log what clients typed); CORS is off unless
`--cors` is given (only the Rasa server calls this, never a browser); and it listens on
SANIC_HOST, 127.0.0.1 unless set, since only Rasa should reach it.
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

    from bot.clinic.redaction import install_log_redaction

    install_log_redaction()
    os.environ.setdefault("SANIC_HOST", "127.0.0.1")
    parser = create_argument_parser()
    parser.set_defaults(cors=None)
    main_from_args(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
