"""Fixtures: see tests/app_fixtures.py."""

from app_fixtures import TestClient, client, workspace

__all__ = ["TestClient", "client", "workspace"]
