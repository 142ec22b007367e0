"""JSON API under /api/v1: bearer tokens only, so no cookie can be ridden across sites (no CSRF)."""
from server.api.routes import bp

__all__ = ["bp"]
