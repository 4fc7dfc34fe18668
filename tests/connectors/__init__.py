"""Tests of the live connectors, and the fake trackers they run against."""
