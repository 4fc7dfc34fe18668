"""Obeya: value stream management from real work-item history."""
