"""What every request and response passes through, whatever blueprint serves it.

- ``errors``: every error as JSON under ``/api`` and as a Chinese page elsewhere; 500s rolled back.
- ``inputs``: NUL characters, non-finite numbers and over-deep JSON refused before any handler.
- ``caching``: ``Cache-Control: no-store`` on everything but static assets.

Wired by ``create_app`` after the blueprints, so that the input checks run after the login guard.
"""
from __future__ import annotations

from flask import Flask

from server.http import caching, errors, inputs


def init_http(app: Flask) -> None:
    app.json = inputs.JsonProvider(app)
    errors.register(app)
    app.before_request(inputs.refuse_unstorable_input)
    app.after_request(caching.no_store)
