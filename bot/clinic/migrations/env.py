"""Alembic environment: runs migrations on the engine `bot.clinic.db.migrate` hands over."""

from alembic import context

import bot.clinic.models  # noqa: F401  (registers every table on Base.metadata)
from bot.clinic.db import Base, get_engine

config = context.config
engine = config.attributes.get("engine") or get_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
