"""Steering: the decisions across teams and streams (docs/steering.md)."""
