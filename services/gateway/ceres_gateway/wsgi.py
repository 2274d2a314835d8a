"""Entry point for gunicorn (`ceres_gateway.wsgi:app`)."""
from .app import create_app

app = create_app()
