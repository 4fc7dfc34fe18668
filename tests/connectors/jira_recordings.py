"""Jira's REST answers, shaped as Atlassian documents them, written for these tests.

Each function returns one JSON document (a dict or list) of the resource it is named after,
with the fields Jira sends (``self`` links, avatars, ``expand``) and not only those the
connector reads, so a client that trips over a field it does not expect fails here. Cloud (API
3) and Data Center (API 2) differ where the documents differ: users (``accountId`` against
``name``/``key``), ``fieldId`` in changelog items, and the search pages (``nextPageToken`` and
``isLast`` against ``startAt``/``maxResults``/``total``).

Times are Jira's ``2024-01-05T10:00:00.000+0100``: milliseconds, the offset of the account's
time zone without a colon.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

#: Jira's three status categories (and the ``undefined`` one no status should have).
CATEGORIES: dict[str, dict[str, Any]] = {
    "undefined": {"id": 1, "key": "undefined", "colorName": "medium-gray", "name": "No Category"},
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def api(cloud: bool) -> str:
    return "/rest/api/3" if cloud else "/rest/api/2"


def jira_time(micros: int, zone: ZoneInfo) -> str:
    """``2024-01-05T10:00:00.000+0100``: the instant in the account's zone, milliseconds."""
    moment = (_EPOCH + timedelta(microseconds=micros)).astimezone(zone)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}{moment:%z}"


def avatars(base: str, ident: str) -> dict[str, str]:
    return {
        f"{size}x{size}": f"{base}/secure/useravatar?size={label}&avatarId={ident}"
        for size, label in ((48, "large"), (24, "small"), (16, "xsmall"), (32, "medium"))
    }


def account_id(name: str) -> str:
    """A stable Atlassian account id for a display name (``557058:…`` as real ones look)."""
    return "557058:" + hashlib.sha1(name.encode()).hexdigest()[:24]


def user(name: str, *, cloud: bool, base: str, time_zone: str) -> dict[str, Any]:
    """A user as it appears in ``assignee`` and a history's ``author``."""
    if cloud:
        ident = account_id(name)
        return {
            "self": f"{base}/rest/api/3/user?accountId={ident}",
            "accountId": ident,
            "avatarUrls": avatars(base, "10122"),
            "displayName": name,
            "active": True,
            "timeZone": time_zone,
            "accountType": "atlassian",
        }
    login = name.lower().replace(" ", ".")
    return {
        "self": f"{base}/rest/api/2/user?username={login}",
        "name": login,
        "key": "JIRAUSER" + str(10000 + int(hashlib.sha1(name.encode()).hexdigest()[:4], 16)),
        "emailAddress": f"{login}@example.com",
        "avatarUrls": avatars(base, "10122"),
        "displayName": name,
        "active": True,
        "timeZone": time_zone,
    }


def myself(name: str, email: str, *, cloud: bool, base: str, time_zone: str) -> dict[str, Any]:
    """``GET /rest/api/{2,3}/myself``."""
    me = user(name, cloud=cloud, base=base, time_zone=time_zone)
    me.update(
        {
            "emailAddress": email,
            "locale": "en_GB",
            "groups": {"size": 2, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }
    )
    if not cloud:
        me["deleted"] = False
        me["lastLoginTime"] = "2024-03-01T09:00:00.000+0000"
    return me


def status_category(key: str, *, cloud: bool, base: str) -> dict[str, Any]:
    category = CATEGORIES[key]
    return {"self": f"{base}{api(cloud)}/statuscategory/{category['id']}", **category}


def status(ident: str, name: str, category: str, *, cloud: bool, base: str) -> dict[str, Any]:
    """One status, as ``GET /status`` lists it and as ``fields.status`` gives it."""
    document: dict[str, Any] = {
        "self": f"{base}{api(cloud)}/status/{ident}",
        "description": "",
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "name": name,
        "id": ident,
        "statusCategory": status_category(category, cloud=cloud, base=base),
    }
    if cloud:
        document["untranslatedName"] = name
    return document


def issue_type(name: str, *, cloud: bool, base: str) -> dict[str, Any]:
    ident = {"Story": "10001", "Bug": "10004", "Task": "10002", "Epic": "10000"}.get(name, "10009")
    document: dict[str, Any] = {
        "self": f"{base}{api(cloud)}/issuetype/{ident}",
        "id": ident,
        "description": f"A {name.lower()}.",
        "iconUrl": f"{base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/10315",
        "name": name,
        "subtask": False,
        "avatarId": 10315,
    }
    if cloud:
        document["entityId"] = hashlib.sha1(name.encode()).hexdigest()[:8]
        document["hierarchyLevel"] = 1 if name == "Epic" else 0
    return document


def project(key: str, *, cloud: bool, base: str) -> dict[str, Any]:
    ident = str(10000 + sum(map(ord, key)))
    document: dict[str, Any] = {
        "self": f"{base}{api(cloud)}/project/{ident}",
        "id": ident,
        "key": key,
        "name": f"{key.title()} project",
        "projectTypeKey": "software",
        "avatarUrls": avatars(base, "10400"),
    }
    if cloud:
        document["simplified"] = False
    return document


def status_item(
    from_id: str | None,
    from_name: str | None,
    to_id: str,
    to_name: str,
    *,
    cloud: bool,
) -> dict[str, Any]:
    """A changelog item of a status change: ``from``/``to`` are status ids."""
    item: dict[str, Any] = {"field": "status", "fieldtype": "jira"}
    if cloud:
        item["fieldId"] = "status"
    item.update({"from": from_id, "fromString": from_name, "to": to_id, "toString": to_name})
    return item


def field_item(
    name: str,
    from_string: str | None,
    to_string: str | None,
    *,
    cloud: bool,
    from_value: str | None = None,
    to_value: str | None = None,
) -> dict[str, Any]:
    """A changelog item of another field (``Key``, ``project``, ``assignee``, ``resolution``;
    ``Flagged``, a custom field whose ``to`` is the option id ``[10019]`` while set; ``Link``,
    whose ``to``/``from`` is the other issue's key)."""
    field_id = {"Key": "key", "Rank": "customfield_10019", "Flagged": "customfield_10021"}.get(
        name, name
    )
    item: dict[str, Any] = {
        "field": name,
        "fieldtype": "custom" if field_id.startswith("customfield_") else "jira",
    }
    if cloud:
        item["fieldId"] = field_id
    item.update(
        {"from": from_value, "fromString": from_string, "to": to_value, "toString": to_string}
    )
    return item


def issue_link(
    ident: str,
    blocking_id: str,
    blocking_key: str,
    status: dict[str, Any],
    *,
    cloud: bool,
    base: str,
) -> dict[str, Any]:
    """An entry of ``fields.issuelinks``: this issue "is blocked by" ``blocking_key`` (type
    ``Blocks``; the other issue as ``inwardIssue``, with its summary and status)."""
    return {
        "id": ident,
        "self": f"{base}{api(cloud)}/issueLink/{ident}",
        "type": {
            "id": "10000",
            "name": "Blocks",
            "inward": "is blocked by",
            "outward": "blocks",
            "self": f"{base}{api(cloud)}/issueLinkType/10000",
        },
        "inwardIssue": {
            "id": blocking_id,
            "key": blocking_key,
            "self": f"{base}{api(cloud)}/issue/{blocking_id}",
            "fields": {"summary": f"Summary of {blocking_key}", "status": status},
        },
    }


def history(ident: str, created: str, items: list[dict[str, Any]], author: dict[str, Any]) -> dict:
    """One changelog entry (a ``Changelog`` in Atlassian's reference)."""
    return {"id": ident, "author": author, "created": created, "items": items}


def issue(
    ident: str,
    key: str,
    fields: dict[str, Any],
    *,
    cloud: bool,
    base: str,
    changelog: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An issue of a search page (or ``GET /issue/{id}``)."""
    document: dict[str, Any] = {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": ident,
        "self": f"{base}{api(cloud)}/issue/{ident}",
        "key": key,
    }
    if changelog is not None:
        document["changelog"] = changelog
    document["fields"] = fields
    return document


def embedded_changelog(histories: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """``issue.changelog`` with ``expand=changelog``: ``total`` may exceed the histories."""
    return {"startAt": 0, "maxResults": len(histories), "total": total, "histories": histories}


def search_page_cloud(issues: list[dict[str, Any]], next_token: str | None) -> dict[str, Any]:
    """``GET /rest/api/3/search/jql``: the last page has no ``nextPageToken`` at all (as
    Jira Cloud answers, though its reference says null)."""
    page: dict[str, Any] = {"issues": issues}
    if next_token is not None:
        page["nextPageToken"] = next_token
    page["isLast"] = next_token is None
    return page


def search_page_dc(
    issues: list[dict[str, Any]], start_at: int, max_results: int, total: int
) -> dict:
    """``GET /rest/api/2/search``."""
    return {
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": max_results,
        "total": total,
        "issues": issues,
    }


def changelog_page(
    values: list[dict[str, Any]],
    *,
    ident: str,
    start_at: int,
    max_results: int,
    total: int,
    base: str,
) -> dict[str, Any]:
    """``GET /rest/api/3/issue/{id}/changelog``: a page of changelogs, oldest first."""
    path = f"{base}/rest/api/3/issue/{ident}/changelog"
    page: dict[str, Any] = {
        "self": f"{path}?maxResults={max_results}&startAt={start_at}",
        "maxResults": max_results,
        "startAt": start_at,
        "total": total,
        "isLast": start_at + len(values) >= total,
        "values": values,
    }
    if not page["isLast"]:
        page["nextPage"] = f"{path}?maxResults={max_results}&startAt={start_at + len(values)}"
    return page


def error(*messages: str, **errors: str) -> dict[str, Any]:
    """Jira's error body: ``{"errorMessages": [...], "errors": {...}}``."""
    return {"errorMessages": list(messages), "errors": errors}


#: A JQL error as Jira Cloud words it.
BAD_JQL = error(
    "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'Done'. (line 1, character 21)"
)
#: Jira Cloud's 401 body for a bad e-mail or token (plain text, not JSON).
UNAUTHORISED_TEXT = "Client must be authenticated to access this resource."
