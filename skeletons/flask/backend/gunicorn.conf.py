"""gunicorn settings: `gunicorn --config gunicorn.conf.py app.wsgi:app`.

See docs/generated-backend.md of fsi for the choice of worker class.

gevent workers: every request and every Server-Sent Events stream is a greenlet, so a few
hundred open `/sse/items` streams do not take the slots requests need (with sync or gthread
workers each stream would hold a worker or a thread for as long as the browser tab is open).
gunicorn patches the standard library before it imports the app; psycopg 3 (PostgreSQL)
cooperates with gevent by itself, redis-py uses the patched sockets, SQLite is a local file,
and argon2 hashes run in gevent's native thread pool (app/modules/auth/security.py).

A stopping worker (SIGTERM from docker stop or the master, SIGINT, a restart) ends its
Server-Sent Events streams at once and closes each connection once its response is done
(`post_worker_init` below), instead of waiting `graceful_timeout` for streams that never
end on their own: the clients reconnect, to a live worker.

Every value can be overridden from the environment (WEB_CONCURRENCY, GUNICORN_BIND, ...)
or the command line (`--bind`, `--workers`).
"""

from __future__ import annotations

import contextlib
import os
import socket

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
# Request lines up to 8 KiB, as nginx's default buffers pass them (gunicorn's own default,
# 4 KiB, answers longer ones itself with an HTML 414 instead of the app's error envelope).
limit_request_line = 8190
# No control socket (gunicorn >= 25.1, for `gunicornc`): it would live in $HOME/.gunicorn, which
# the image's unprivileged user cannot create (an ERROR line at every start), and every gunicorn
# of a host (or a test run) would share that one path.
control_socket_disable = True
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


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """Make this worker's graceful stop prompt.

    gunicorn's gevent worker, once told to stop, stops accepting and waits (up to
    graceful_timeout) until no connection is left. An SSE stream never ends by itself, and
    a keep-alive connection waits `keepalive` seconds for its next request. So, as soon as
    the worker is stopping, a watcher greenlet ends every open stream (the broadcaster's
    `close_streams`) and shuts the connections that wait for their next request, and each
    connection closes once its current response is done. Requests in progress finish.
    """
    import gevent
    from gunicorn.workers.ggevent import GeventWorker

    if not isinstance(worker, GeventWorker):  # another worker class from the command line
        return
    busy: dict[object, bool] = {}  # open connection (client socket) → serving a request
    serve_connection = worker.handle
    serve_request = worker.handle_request

    def handle(listener, client, addr) -> None:  # noqa: ANN001
        busy[client] = False
        try:
            serve_connection(listener, client, addr)
        finally:
            busy.pop(client, None)

    def handle_request(listener_name, req, sock, addr) -> bool:  # noqa: ANN001
        busy[sock] = True
        try:
            keep_alive = serve_request(listener_name, req, sock, addr)
        finally:
            busy[sock] = False
        if not worker.alive:
            raise StopIteration  # stopping: close this connection (gunicorn's way)
        return keep_alive

    # run() (after this hook) binds the servers to these.
    worker.handle = handle
    worker.handle_request = handle_request

    def watch() -> None:
        while worker.alive:
            gevent.sleep(0.05)
        try:
            from app.wsgi import app
        except Exception:  # the app never loaded
            return
        broadcaster = app.extensions.get("broadcaster")
        if broadcaster is not None:
            ended = broadcaster.close_streams()
            if ended:
                worker.log.info("stopping: ended %d event stream(s)", ended)
        for client, serving in list(busy.items()):
            if not serving:
                # The OS socket under gevent's: its waiting read then sees the end of the
                # connection (gevent's own shutdown() would fail it with EBADF, an ERROR line).
                with contextlib.suppress(OSError):
                    getattr(client, "_sock", client).shutdown(socket.SHUT_RDWR)

    gevent.spawn(watch)
