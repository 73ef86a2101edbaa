"""The strawberry ASGI view: context, safe body decoding, fast encoding."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.auth import ANONYMOUS, presented
from api.idp import IdentityProviders
from crm.db import Database
from crm.tokens import TokenSigner
from schema.context import Authentication, Context
from schema.errors import with_codes

logger = logging.getLogger("mutual.http")


class MutualGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        database: Database,
        signer: TokenSigner,
        providers: IdentityProviders,
        customer_token_ttl: timedelta,
        graphiql: bool,
        max_body_bytes: int,
        planner: bool = True,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
        )
        self.database = database
        self.signer = signer
        self.providers = providers
        self.customer_token_ttl = customer_token_ttl
        self.max_body_bytes = max_body_bytes
        self.planner = planner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            receive = self._limited(receive)
        await super().__call__(scope, receive, send)

    def _limited(self, receive: Receive) -> Receive:
        """`receive` that refuses a body over max_body_bytes as it streams in, so a
        chunked upload without Content-Length is never buffered whole."""
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large)
            return message

        return limited

    @property
    def _too_large(self) -> str:
        return f"Request body over {self.max_body_bytes} bytes."

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """The operation's context. Its credentials are checked later, in the
        operation's own transaction (schema.extensions.MutualOperation); a
        WebSocket connection checks them once, here, when it opens."""
        headers = request.headers
        found = presented(
            self.signer,
            headers.get("authorization"),
            api_key=headers.get("x-api-key"),
            providers=self.providers,
        )
        context = Context(
            actor=ANONYMOUS.actor,
            database=self.database,
            signer=self.signer,
            customer_token_ttl=self.customer_token_ttl,
            request=request,
            planner=self.planner,
        )
        if isinstance(found, Authentication):
            context.actor, context.auth_error = found.actor, found.error
        else:
            context.credentials = found
            if isinstance(request, WebSocket):
                async with self.database.session(write=False) as session:
                    await context.authenticate(session)
                await context.settle()
        return context

    async def run(
        self, request: Any, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        """Refuse oversized bodies up front; HTTP-level errors answer in GraphQL shape;
        an unexpected failure is logged and answered as a masked 500."""
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        try:
            length = request.headers.get("content-length")
            if length is not None and int(length) > self.max_body_bytes:
                raise HTTPException(413, self._too_large)
            return await super().run(request, context, root_value)
        except ValueError:
            return _http_error(400, "Bad Content-Length header.")
        except HTTPException as exc:
            return _http_error(exc.status_code, exc.reason)
        except ClientDisconnect:
            logger.info("client went away before %s was answered", request.url.path)
            return _http_error(400, "The client disconnected.")
        except Exception:
            logger.exception("unexpected error answering %s", request.url.path)
            return _http_error(500, "Internal server error.")

    async def process_result(
        self, request: Any, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Errors raised outside the resolvers (an extension hook, a commit) skip the
        # ErrorCodes extension; give them a code, and mask them, here.
        if result.errors:
            result.errors = with_codes(result.errors)
        return await super().process_result(request, result)

    def decode_json(self, data: str | bytes) -> object:
        if len(data) > self.max_body_bytes:
            raise HTTPException(413, self._too_large)
        try:
            decoded = orjson.loads(data)
        except (orjson.JSONDecodeError, RecursionError):
            raise HTTPException(400, "The request body is not valid JSON.") from None
        if not isinstance(decoded, dict | list):
            # strawberry reads a request with .get(): anything else would be a 500.
            raise HTTPException(400, "The request body must be a JSON object.")
        return decoded

    def encode_json(self, data: object) -> str:
        return orjson.dumps(data).decode()


HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_SERVER_ERROR",
}


def _http_error(status: int, reason: str) -> JSONResponse:
    code = HTTP_CODES.get(status, "BAD_REQUEST")
    return JSONResponse(
        {"errors": [{"message": reason, "extensions": {"code": code}}]},
        status_code=status,
    )
