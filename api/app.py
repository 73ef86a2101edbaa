"""The ASGI application: /graphql, /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute

from api.downloads import download_routes
from api.idp import IdentityProviders
from api.metrics import Metrics, MetricsMiddleware
from api.settings import Settings
from api.view import MutualGraphQL
from crm import migrate
from crm.access.recorder import recorder_for
from crm.db import Database
from crm.tokens import TokenSigner
from schema import build_schema

logger = logging.getLogger("mutual")


def create_app(
    settings: Settings | None = None, *, database: Database | None = None
) -> Starlette:
    """The app for `settings`; pass `database` to share one (tests, embedding)."""
    settings = settings or Settings()
    owns_database = database is None
    db = database or Database(settings.database_url)
    signer = TokenSigner(
        secret=settings.resolved_secret(),
        ttl=timedelta(minutes=settings.token_ttl_minutes),
    )
    graphql = MutualGraphQL(
        build_schema(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_query_cost,
        ),
        database=db,
        signer=signer,
        providers=IdentityProviders.from_settings(settings),
        customer_token_ttl=timedelta(minutes=settings.customer_token_ttl_minutes),
        graphiql=settings.development,
        max_body_bytes=settings.max_body_bytes,
        planner=settings.planner,
    )
    metrics = Metrics()

    async def healthz(_: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> JSONResponse:
        try:
            async with db.session(write=False) as session:
                await session.execute(text("SELECT 1"))
            current = await migrate.is_current(db.url)
        except Exception as exc:  # readiness reports, never raises
            logger.warning("not ready: %s", exc)
            return JSONResponse({"ready": False, "reason": "database unreachable"}, 503)
        if not current:
            return JSONResponse({"ready": False, "reason": "migrations pending"}, 503)
        return JSONResponse({"ready": True})

    async def metrics_endpoint(_: Request) -> PlainTextResponse:
        return PlainTextResponse(
            metrics.render(), media_type="text/plain; version=0.0.4"
        )

    access_views = recorder_for(db)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Customer reads are buffered in memory and written every few seconds,
        # and once more on shutdown (crm.access.recorder).
        flusher = asyncio.create_task(access_views.run())
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await access_views.close()
            if owns_database:
                await db.dispose()

    app = Starlette(
        routes=[
            # No `methods=`: the view answers other methods with a JSON 405.
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *download_routes(db, signer, settings),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.database = db
    app.state.schema = graphql.schema
    app.state.signer = signer
    app.state.access_views = access_views
    return app
