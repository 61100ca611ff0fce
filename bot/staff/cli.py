"""The staff command line: `massagebot …` (or `python -m bot …`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.clinic import faq
from bot.clinic.db import migrate
from bot.settings import ConfigError, Settings


def _setup(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.rasa_adapter.nlu import spacy_model

    if not (spacy_model.DEFAULT_PATH / "meta.json").exists():
        spacy_model.build()
        print(f"Built the spaCy pipeline in {spacy_model.DEFAULT_PATH}")
    migrate(settings.database_url)
    count = faq.import_faq(settings.database_url, settings.faq_file)
    print(f"Database ready; {count} FAQ entries loaded from {settings.faq_file}")
    return 0


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    migrate(settings.database_url)
    print("Database schema is up to date.")
    return 0


def _faq_import(settings: Settings, args: argparse.Namespace) -> int:
    migrate(settings.database_url)
    count = faq.import_faq(settings.database_url, args.file or settings.faq_file)
    print(f"Imported {count} FAQ entries.")
    return 0


def _faq_export(settings: Settings, args: argparse.Namespace) -> int:
    count = faq.export_faq(settings.database_url, args.file)
    print(f"Exported {count} FAQ entries to {args.file}.")
    return 0


def _faq_list(settings: Settings, _args: argparse.Namespace) -> int:
    items = faq.list_faq(settings.database_url)
    width = max((len(item.id) for item in items), default=2)
    for item in items:
        topic = f"{item.intent}" + (f" [{item.entity}={item.value}]" if item.entity else "")
        print(f"{item.id:<{width}}  {topic:<44}  {item.title}")
    print(f"{len(items)} entries")
    return 0


def _unanswered_list(settings: Settings, args: argparse.Namespace) -> int:
    rows = faq.list_unanswered(settings.database_url, include_resolved=args.all)
    for row in rows:
        guess = f"{row.intent} {row.confidence:.2f}" if row.confidence is not None else "-"
        state = "resolved" if row.resolved else row.reason
        print(f"{row.id:>5}  {row.created_at:%Y-%m-%d %H:%M}  {state:<9} {guess:<28} {row.text}")
    print(f"{len(rows)} questions")
    return 0


def _unanswered_resolve(settings: Settings, args: argparse.Namespace) -> int:
    if faq.resolve_unanswered(settings.database_url, args.id):
        print(f"Marked question {args.id} as resolved.")
        return 0
    print(f"No unanswered question with id {args.id}.", file=sys.stderr)
    return 2


def _serve(_settings: Settings, args: argparse.Namespace) -> int:
    from bot.rasa_adapter import serve

    return serve.serve(args.model, port=args.port, action_port=args.action_port)


def _shell(_settings: Settings, args: argparse.Namespace) -> int:
    from bot.staff import shell as staff_shell

    return staff_shell.main(args.shell_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="massagebot", description="Run and curate the massage clinic chatbot."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("setup", help="build the spaCy pipeline, migrate, load the FAQ")
    commands.choices["setup"].set_defaults(handler=_setup)

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_db_upgrade)

    faq_commands = commands.add_parser("faq", help="the curated FAQ").add_subparsers(required=True)
    importer = faq_commands.add_parser("import", help="replace the FAQ with a YAML file")
    importer.add_argument("file", nargs="?", type=Path)
    importer.set_defaults(handler=_faq_import)
    exporter = faq_commands.add_parser("export", help="write the live FAQ to a YAML file")
    exporter.add_argument("file", type=Path)
    exporter.set_defaults(handler=_faq_export)
    faq_commands.add_parser("list", help="list live entries").set_defaults(handler=_faq_list)

    unanswered = commands.add_parser(
        "unanswered", help="questions the bot could not answer"
    ).add_subparsers(required=True)
    lister = unanswered.add_parser("list", help="list open questions")
    lister.add_argument("--all", action="store_true", help="include resolved ones")
    lister.set_defaults(handler=_unanswered_list)
    resolver = unanswered.add_parser("resolve", help="mark a question as handled")
    resolver.add_argument("id", type=int)
    resolver.set_defaults(handler=_unanswered_resolve)

    server = commands.add_parser("serve", help="run Rasa and the action server")
    server.add_argument("--model", type=Path, default=None, help="model file (default: newest)")
    server.add_argument("--port", type=int, default=5005)
    server.add_argument("--action-port", type=int, default=5055)
    server.set_defaults(handler=_serve)
    shell = commands.add_parser(
        "shell",
        help="talk to the bot in this terminal (options: see `python -m bot.staff.shell -h`)",
    )
    shell.add_argument("shell_args", nargs=argparse.REMAINDER)
    shell.set_defaults(handler=_shell)

    from bot.staff import bookings, conversations, privacy

    bookings.register(commands)
    conversations.register(commands)
    privacy.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from bot.rasa_adapter.startup import prepare_process

    prepare_process(serves=False)  # `shell` prepares for Rasa itself
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        return int(args.handler(settings, args) or 0)
    except faq.FaqImportError as error:
        print("The FAQ was not imported; the database is unchanged. Problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"Database error ({settings.database_url.split('@')[-1]}): {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
