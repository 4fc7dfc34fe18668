"""The app store: value streams and their event histories in SQLite or PostgreSQL, and what
the workspace keeps beside them in the store's parts (``store.maps``, ``store.records``,
``store.users``, ``store.tokens``, ``store.sign_ins``, ``store.delivery``,
``store.blockers``, ``store.connectors``).

::

    with Store() as store:          # $OBEYA_DATABASE_URL, else $OBEYA_HOME/obeya.db
        store.initialise()
        store.append_events("Support", log, source="incidents.csv")
        log = store.load_events("Support")
        risks = store.records.all("risk", stream="Support")
"""

from obeya.store.maps import MapInfo, MapVersion, StoredMap
from obeya.store.settings import default_database_url, obeya_home
from obeya.store.store import ImportResult, Store, StreamInfo

__all__ = [
    "ImportResult",
    "MapInfo",
    "MapVersion",
    "Store",
    "StoredMap",
    "StreamInfo",
    "default_database_url",
    "obeya_home",
]
