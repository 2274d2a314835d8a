"""HTTP entry points of the sessions service (blueprints listed in app.py)."""
