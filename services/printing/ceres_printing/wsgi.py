"""Entry point for gunicorn (`ceres_printing.wsgi:app`) and the Flask CLI."""
from .app import create_app

app = create_app()
