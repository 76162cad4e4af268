"""gunicorn settings: `gunicorn --config gunicorn.conf.py app.wsgi:app`.

See docs/generated-backend.md of fsi for the choice of worker class.

gevent workers: every request and every Server-Sent Events stream is a greenlet, so a few
hundred open `/sse/items` streams do not take the slots requests need (with sync or gthread
workers each stream would hold a worker or a thread for as long as the browser tab is open).
gunicorn patches the standard library before it imports the app; psycopg 3 (PostgreSQL)
cooperates with gevent by itself, redis-py uses the patched sockets, SQLite is a local file,
and argon2 hashes run in gevent's native thread pool (app/modules/auth/security.py).

Every value can be overridden from the environment (WEB_CONCURRENCY, GUNICORN_BIND, ...)
or the command line (`--bind`, `--workers`).
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
worker_class = "gevent"
# Open connections (requests and SSE streams) per worker.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# Without REDIS_URL, events, tickets and rate limits live in one process: one worker. With
# Redis every worker shares them: two by default.
workers = int(os.environ.get("WEB_CONCURRENCY") or (2 if os.environ.get("REDIS_URL") else 1))
# SSE streams send a heartbeat every SSE_HEARTBEAT_SECONDS: far below this timeout.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 5
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") != "0" else None
errorlog = "-"


def worker_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """Release the app's connections and the Redis listener when a worker stops."""
    try:
        from app.main import close_app
        from app.wsgi import app
    except Exception:  # the app never loaded
        return
    close_app(app)
