"""Our `rasa run`: the same Rasa server, plus the pieces Rasa has no hook for.

    python -m bot.rasa_adapter.server --model models/ --endpoints endpoints.yml \
        --credentials credentials.yml

builds the app with Rasa's own `configure_app` and `load_agent_on_start`, then adds:

- a quiet start (`startup`: known third-party warnings hidden, TensorFlow's logging limited);
- persistence from the environment (`persistence`: TRACKER_STORE_URL, REDIS_URL, …);
- the action endpoint that keeps its connections, gives up after ACTION_TIMEOUT_SECONDS and
  stops calling a failing action server for a while (`action_endpoint`);
- `/health` and `/ready` for healthchecks and probes (`health`);
- the security settings of `security` (API off unless protected, CORS, widget sessions and
  socket.io JWT, conversations keyed by channel, size caps, rate limits, load shedding past
  MAX_MESSAGES_IN_FLIGHT) applied to every channel;
- Rasa's internals changed where Rasa has no extension point (`patches`: the model loaded once
  before Sanic forks its workers, which share it, and run without dask; a polite reply with the
  clinic's phone number when an action fails; a new session every SESSION_MESSAGE_LIMIT
  messages of a long conversation; hot spots found by `make bench`); MASSAGEBOT_PATCHES=0
  leaves them out;
- log redaction of phone numbers and e-mail addresses (`bot.clinic.redaction`).

`serve` starts this instead of `rasa run`; the flags it accepts are the ones `rasa run` takes
that we use.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

logger = logging.getLogger("bot.rasa_adapter.server")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_adapter.server", description=__doc__)
    parser.add_argument("--model", "-m", default="models", help="model file or folder")
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--port", "-p", type=int, default=5005)
    parser.add_argument("--interface", "-i", default="0.0.0.0")
    parser.add_argument("--response-timeout", type=int, default=3600)
    parser.add_argument("--debug", action="store_true", help="debug logging")
    parser.add_argument("--quiet", action="store_true", help="warnings and errors only")
    return parser.parse_args(argv)


def read_endpoints(path: str) -> Any:
    """endpoints.yml, with the sections the environment overrides replaced; the action endpoint
    keeps its connections (`action_endpoint`)."""
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa_adapter.action_endpoint import ActionEndpoint
    from bot.rasa_adapter.persistence import describe, endpoint_overrides

    endpoints = (
        AvailableEndpoints.read_endpoints(path) if Path(path).is_file() else AvailableEndpoints()
    )
    overrides = endpoint_overrides(configured_tracker_store=endpoints.tracker_store is not None)
    for key, section in overrides.items():
        attribute = "action" if key == "action_endpoint" else key
        setattr(endpoints, attribute, EndpointConfig.from_dict(dict(section)))
        logger.info("%s from the environment: %s", key, describe(section))
    endpoints.action = ActionEndpoint.from_config(endpoints.action)
    return endpoints


def check_store_classes(endpoints: Any) -> None:
    """Fail at start if a store named by class path does not import: Rasa would log a warning
    and keep conversations in memory, to be lost at the next restart."""
    from rasa.shared.utils.common import class_from_module_path

    from bot.rasa_adapter.persistence import PersistenceConfigError

    for key in ("tracker_store", "lock_store"):
        store = getattr(endpoints, key, None)
        kind = getattr(store, "type", None) or ""
        if "." in kind:
            try:
                class_from_module_path(kind)
            except (ImportError, AttributeError) as error:
                message = f"{key} type {kind} cannot be loaded: {error}"
                raise PersistenceConfigError(message) from error


async def close_action_endpoint(app: Any, _loop: Any) -> None:
    """A Sanic `after_server_stop` listener: close the action endpoint's kept connections."""
    endpoint = getattr(app.ctx.massagebot_endpoints, "action", None)
    if endpoint is not None and hasattr(endpoint, "close"):
        await endpoint.close()


def create_channels(credentials: str, settings: Any) -> list[Any]:
    """The channels of credentials.yml, with Rasa's own `rest` and `socketio` served by ours
    (they let a client pick any conversation); socket.io gets the session secret that signs
    widget sessions, and the JWT key if one is configured."""
    from rasa.core.channels.rest import RestInput
    from rasa.core.channels.socketio import SocketIOInput
    from rasa.core.run import create_http_input_channels

    from bot.rasa_adapter.channels.rest import RestChannel
    from bot.rasa_adapter.channels.socketio import SocketIOChannel
    from bot.rasa_adapter.widget_sessions import SessionIssuer, development_secret

    channels = create_http_input_channels(
        None, credentials if Path(credentials).is_file() else None
    )
    for index, channel in enumerate(channels):
        if type(channel) is RestInput:
            logger.info("Rasa's rest channel is served by %s", RestChannel.__module__)
            channels[index] = channel = RestChannel.from_credentials(None)
        elif type(channel) is SocketIOInput:
            logger.info("Rasa's socketio channel is served by %s", SocketIOChannel.__module__)
            replacement = SocketIOChannel()
            replacement.__dict__.update(vars(channel))
            channels[index] = channel = replacement
        if isinstance(channel, SocketIOChannel):
            channel.use_sessions(SessionIssuer(settings.session_secret or development_secret()))
            if settings.socketio_jwt_key:
                channel.jwt_key = settings.socketio_jwt_key
                channel.jwt_algorithm = settings.socketio_jwt_method
    return channels


def register_channels(app: Any, channels: list[Any], guard: Any, route: str = "/webhooks/") -> None:
    """Rasa's `channel.register`, with every incoming message passing through our guard, which
    keys it by the channel it really came through."""

    async def handler(message: Any) -> None:
        await app.ctx.agent.handle_message(message)

    for channel in channels:
        if hasattr(channel, "use_guard"):
            channel.use_guard(guard)
        guarded = guard.wrap(handler, channel)
        app.blueprint(channel.blueprint(guarded), url_prefix=urljoin(route, channel.url_prefix()))
    app.ctx.input_channels = channels


def build_app(args: argparse.Namespace, model_path: str | None) -> Any:
    """The Sanic app `rasa run` would build, with our guards installed."""
    from rasa.core import run as rasa_run

    from bot.rasa_adapter import health
    from bot.rasa_adapter.resilience import ResilienceSettings, clinic_apology
    from bot.rasa_adapter.security import (
        SecuritySettings,
        install_http_guards,
        make_guard,
        make_limiter,
    )
    from bot.settings import Settings

    settings = SecuritySettings.from_env()
    endpoints = read_endpoints(args.endpoints)
    channels = create_channels(args.credentials, settings)
    app = rasa_run.configure_app(
        input_channels=None,
        cors=list(settings.cors_origins) or None,
        auth_token=settings.api_token,
        enable_api=settings.enable_api,
        response_timeout=args.response_timeout,
        jwt_secret=settings.jwt_secret,
        jwt_method=settings.jwt_method,
        port=args.port,
        endpoints=endpoints,
    )
    guard = make_guard(settings, clinic_apology, ResilienceSettings.from_env().max_in_flight)
    register_channels(app, channels, guard)
    health.install(app, Settings.from_env().database_url)
    install_http_guards(app, settings, make_limiter(settings.ip_rate, settings, "ip"))
    if model_path is not None:  # tests set `app.ctx.agent` themselves
        app.register_listener(
            partial(rasa_run.load_agent_on_start, model_path, endpoints, None),
            "before_server_start",
        )
    app.register_listener(rasa_run.close_resources, "after_server_stop")
    app.register_listener(close_action_endpoint, "after_server_stop")
    app.ctx.massagebot_endpoints = endpoints
    logger.info(
        "%s; HTTP API %s; CORS origins: %s; rate limits: sender %s, IP %s, new widget sessions %s",
        "production" if settings.production else "development",
        "on (token/JWT required)" if settings.enable_api else "off",
        ", ".join(settings.cors_origins) or "none (same origin only)",
        settings.sender_rate or "off",
        settings.ip_rate or "off",
        settings.session_rate or "off",
    )
    return app


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from bot.rasa_adapter.startup import prepare_process, quiet_warnings

    prepare_process()

    from bot.clinic.booking.config import BookingConfig, BookingConfigError
    from bot.clinic.facts import sample_clinic_refusal
    from bot.rasa_adapter import patches, sessions
    from bot.rasa_adapter.persistence import PersistenceConfigError, endpoint_overrides
    from bot.rasa_adapter.resilience import ResilienceSettings, clinic_apology
    from bot.rasa_adapter.security import SecurityConfigError, SecuritySettings
    from bot.settings import ConfigError, Settings, is_production

    try:  # configuration mistakes first, before the slow start and any global set-up
        SecuritySettings.from_env()
        ResilienceSettings.from_env()  # action timeout, circuit breaker, messages in flight
        endpoint_overrides()
        sessions.limit_from_env()
        BookingConfig.from_env()  # e.g. a webhook URL without its signing secret
        refusal = sample_clinic_refusal(Settings.from_env().clinic_file, is_production())
    except (
        ConfigError,
        SecurityConfigError,
        PersistenceConfigError,
        sessions.SessionConfigError,
        BookingConfigError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 2

    sys.path.insert(1, os.getcwd())  # custom components are imported from the project
    import rasa.model
    import rasa.utils.common
    from rasa.core.utils import number_of_sanic_workers
    from rasa.utils import io as rasa_io
    from rasa.utils.log_utils import configure_structlog
    from rasa.utils.tensorflow import environment as tf_env

    from bot.clinic.redaction import install_log_redaction

    level = logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO
    install_log_redaction()
    rasa.utils.common.configure_logging_and_warnings(level, warn_only_once=True)
    quiet_warnings()  # again: Rasa's own filters went in front of ours
    rasa_io.configure_colored_logging(logging.getLevelName(level))
    configure_structlog(level)
    tf_env.setup_tf_environment()

    try:
        model_path = rasa.model.get_local_model(args.model)
        app = build_app(args, model_path)
        check_store_classes(app.ctx.massagebot_endpoints)
    except rasa.model.ModelNotFound as error:
        print(f"error: no trained model ({error}); run `make train` first", file=sys.stderr)
        return 2
    except PersistenceConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    limit = sessions.limit_from_env()
    if patches.install(patches.PatchSettings(apology=clinic_apology, session_limit=limit)):
        try:
            patches.preload_model(model_path)
        except Exception as error:  # a model that does not load: say so before serving nothing
            logger.exception("Could not load the model")
            print(f"error: could not load the model {model_path}: {error}", file=sys.stderr)
            return 2

    rasa.utils.common.update_sanic_log_level()
    workers = number_of_sanic_workers(app.ctx.massagebot_endpoints.lock_store)
    logger.info(
        "Starting Rasa on http://%s:%s with %d worker(s)", args.interface, args.port, workers
    )
    app.run(
        host=args.interface,
        port=args.port,
        backlog=int(os.environ.get("SANIC_BACKLOG", "100")),
        workers=workers,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
