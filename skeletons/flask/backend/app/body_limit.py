"""MAX_CONTENT_LENGTH for chunked request bodies too.

A body announced with Content-Length over MAX_CONTENT_LENGTH is a 413 in Werkzeug. A chunked
body (Transfer-Encoding: chunked, no length) is not: Werkzeug reads it up to the limit and
stops there without an error, so the app would see the first MAX_CONTENT_LENGTH bytes as the
whole body (a JSON error at best, a silently truncated value at worst).

`ChunkedBodyLimit` reads a chunked body (at most the limit plus one byte) before Flask sees
the request, and hands it on with its Content-Length: within the limit the request goes on as
if the length had been sent; over it Werkzeug answers 413 (the PAYLOAD_TOO_LARGE envelope).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyLimit:
    def __init__(self, wsgi_app: WSGIApp, limit: int | None) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if self.limit is not None and chunked and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.wsgi_app(environ, start_response)
