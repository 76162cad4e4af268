"""The ASGI entry point for servers: `hypercorn app.asgi:app`."""

from app.main import create_app

app = create_app()
