"""JSON API under /api/v1: bearer tokens only, so no cookie can be ridden across sites (no CSRF)."""
from server.api.routes import bp
from server.api import flow as _flow, imports as _imports, registers as _registers, stats as _stats  # noqa: F401  (add their routes to bp)

__all__ = ["bp"]
