"""The strawberry ASGI view: context, safe body decoding, fast encoding."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

from api.auth import authenticate
from crm.db import Database
from crm.tokens import TokenSigner
from schema.context import Context


class MutualGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        database: Database,
        signer: TokenSigner,
        graphiql: bool,
        max_body_bytes: int,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
        )
        self.database = database
        self.signer = signer
        self.max_body_bytes = max_body_bytes

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        header = request.headers.get("authorization")
        auth = await authenticate(self.database, self.signer, header)
        return Context(
            actor=auth.actor,
            database=self.database,
            signer=self.signer,
            request=request,
            auth_error=auth.error,
        )

    async def run(
        self, request: Any, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        """Refuse oversized bodies up front; HTTP-level errors answer in GraphQL shape."""
        try:
            length = request.headers.get("content-length")
            if length is not None and int(length) > self.max_body_bytes:
                raise HTTPException(
                    413, f"Request body over {self.max_body_bytes} bytes."
                )
            return await super().run(request, context, root_value)
        except ValueError:
            return _http_error(400, "Bad Content-Length header.")
        except HTTPException as exc:
            return _http_error(exc.status_code, exc.reason)

    def decode_json(self, data: str | bytes) -> object:
        if len(data) > self.max_body_bytes:
            raise HTTPException(413, f"Request body over {self.max_body_bytes} bytes.")
        try:
            return orjson.loads(data)
        except (orjson.JSONDecodeError, RecursionError):
            raise HTTPException(400, "The request body is not valid JSON.") from None

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()


HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def _http_error(status: int, reason: str) -> JSONResponse:
    code = HTTP_CODES.get(status, "BAD_REQUEST")
    return JSONResponse(
        {"errors": [{"message": reason, "extensions": {"code": code}}]},
        status_code=status,
    )
