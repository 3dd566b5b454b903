"""The FastAPI application: middleware, error mapping and the route modules.

``create_app(services)`` serves an already-open service layer (tests);
``create_app_for_data_dir(...)`` opens the data dir's database inside the
server's own event loop (``crewos-tui serve``), since async SQLite connections
belong to the loop that made them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ... import __version__
from ..errors import CrewOSError
from ..local.context import Settings
from ..local.services import Services
from .auth import AuthMiddleware
from .handlers import CatchAllMiddleware, crewos_error_handler, http_error_handler, validation_error_handler
from .ratelimit import FailureThrottle, SlidingWindowLimiter, TrustedProxies
from .request_id import RequestIdMiddleware
from .routes import ROUTERS

#: Login attempts allowed per client address per minute.
LOGIN_ATTEMPTS_PER_MINUTE = 20

DESCRIPTION = (
    "CrewOS endpoints served by crewos-tui from its local service layer. "
    "Authenticate with an `X-CrewOS-API-Key` header or `Authorization: Bearer <access token>`; "
    "errors answer `{\"detail\": \"...\"}`; lists take `limit` and `cursor` and answer "
    "`{\"items\": [...], \"next_cursor\": ...}`."
)


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def _build(services: Services | None, *, lifespan: Lifespan | None = None, login_attempts_per_minute: int,
           trusted_proxies: Iterable[str], login_failures: FailureThrottle | None = None) -> FastAPI:
    app = FastAPI(title="CrewOS (crewos-tui)", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.services = services
    app.state.login_limiter = SlidingWindowLimiter(login_attempts_per_minute, window=60.0)
    # Growing delays per client after failed sign-ins (the account has its own, in the service).
    app.state.login_failures = login_failures or FailureThrottle()
    # X-Forwarded-For names the client only when the direct peer is one of these.
    app.state.trusted_proxies = TrustedProxies(trusted_proxies)
    app.add_exception_handler(CrewOSError, crewos_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    # add_middleware stacks outward: the last added runs first. Authentication sits
    # before routing (so it precedes input validation); the catch-all wraps everything.
    app.add_middleware(AuthMiddleware)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: every answer, errors too, carries X-Request-ID
    for router in ROUTERS:
        app.include_router(router)
    return app


def create_app(services: Services, *, login_attempts_per_minute: int = LOGIN_ATTEMPTS_PER_MINUTE,
               background: bool = False, trusted_proxies: Iterable[str] = (),
               login_failures: FailureThrottle | None = None) -> FastAPI:
    """An app serving ``services``; the caller opens and closes them. With ``background``
    the app's lifespan also runs the services' background work (the job runner).
    ``trusted_proxies``: addresses or networks whose ``X-Forwarded-For`` is believed;
    ``login_failures``: the per-client sign-in back-off (tests give it a manual clock)."""
    lifespan: Lifespan | None = None
    if background:
        @asynccontextmanager
        async def run_background(app: FastAPI) -> AsyncGenerator[None, None]:
            await services.start_background()
            try:
                yield
            finally:
                await services.stop_background()

        lifespan = run_background

    return _build(services, lifespan=lifespan, login_attempts_per_minute=login_attempts_per_minute,
                  trusted_proxies=trusted_proxies, login_failures=login_failures)


def create_app_for_data_dir(
    data_dir: Path | str,
    demo: bool = False,
    *,
    settings: Settings | None = None,
    login_attempts_per_minute: int = LOGIN_ATTEMPTS_PER_MINUTE,
    trusted_proxies: Iterable[str] = (),
) -> FastAPI:
    """An app that opens the data dir's database at startup and closes it at shutdown.

    On a new database it seeds demo data (``demo``) and creates the first admin
    (see ``crewos_tui.backend.serve.open_data_dir``).
    """
    from ..serve import open_data_dir  # serve.py keeps fastapi off the CLI's import path

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
        services = await open_data_dir(Path(data_dir), demo=demo, settings=settings, bootstrap=True)
        app.state.services = services
        try:
            await services.start_background()  # the durable job runner: this process owns the database
            yield
        finally:
            await services.close()

    return _build(None, lifespan=lifespan, login_attempts_per_minute=login_attempts_per_minute,
                  trusted_proxies=trusted_proxies)
