"""The WSGI entry point for servers: `gunicorn --config gunicorn.conf.py app.wsgi:app`."""

from app.main import create_app

app = create_app()
