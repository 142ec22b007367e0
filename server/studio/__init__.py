"""The configuration studio's service layer: administrators' drafts over the live release, checking a
draft as ``config check`` would, previews, and publishing or restoring a release. The pages are in
``server.admin.studio_views``; releases themselves in ``server.specs.releases``."""
