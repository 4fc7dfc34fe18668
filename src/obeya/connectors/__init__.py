"""Live connectors: read a tracker's history (Jira, GitHub, GitLab) over its REST API.

A connector's client turns the tracker's pages into an :class:`~obeya.core.events.EventLog`
(and delivery records where the tracker has them); the workspace stores them as an import
would, so a sync is all-or-nothing and repeating it adds nothing. Nothing here touches the
store, the CLI or the web.
"""
