"""HTTP routes that serve files outside GraphQL (prepared data exports).

`GET /exports/{token}`: the token is a short-lived link from `download` on an
export (crm/exports/links.py). It names the export, its customer and the caller
it was issued to; that caller must still be allowed to fetch it. Answers: the
file, 404 for a link that is not valid for anything, 410 for an expired link or a
deleted file, always with a JSON body for errors.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.auth import actor_for_subject
from api.settings import Settings
from crm.db import Database
from crm.errors import NotFound, Unauthenticated
from crm.exports import links, service
from crm.tokens import TokenSigner
from schema.exports.types import DOWNLOAD_PATH, DOWNLOAD_ROUTE

logger = logging.getLogger("mutual.downloads")

NOT_FOUND = "No export behind this link: ask for a fresh link."
GONE = "This link or export has expired: ask for a fresh link or a new export."


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def download_routes(
    database: Database, signer: TokenSigner, settings: Settings
) -> list[BaseRoute]:
    """The download routes of the app (`settings`: nothing to configure yet; the
    limits live in crm/exports/service.py)."""

    async def download(request: Request) -> Response:
        token = request.path_params.get("token", "")
        try:
            claims = links.read_link(signer, token)
        except links.LinkExpired:
            return _error(410, "GONE", GONE)
        except links.LinkInvalid:
            return _error(404, "NOT_FOUND", NOT_FOUND)
        try:
            # The link acts for the caller it was issued to, while they still may.
            async with database.transaction() as session:
                actor = await actor_for_subject(session, claims.holder)
                found = await service.open_download(
                    session,
                    actor,
                    export_id=claims.export_id,
                    customer_id=claims.customer_id,
                )
                content, media_type = found.file.content, found.file.media_type
                file_name = found.file.file_name
        except (Unauthenticated, NotFound):
            return _error(404, "NOT_FOUND", NOT_FOUND)
        except service.ExportGone:
            return _error(410, "GONE", GONE)
        return Response(
            content,
            media_type=media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{file_name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    return [Route(DOWNLOAD_PATH, download, methods=["GET"], name=DOWNLOAD_ROUTE)]
