"""The REST API under /api (OpenAPI at /docs) and the app that also serves the pages.

Start at :func:`obeya.api.app.create_app`.
"""
