"""The app's shared resources, made once by the app factory and reached by every view through
these accessors (the pattern of flaskr's db.py): the settings, the Redis client, the results
store and the data folder's layout."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from sqlalchemy import Engine

from shared.settings import Settings
from shared.storage import Storage
from shared.store import open_configured_store

SETTINGS, REDIS, STORE = "trapline.settings", "trapline.redis", "trapline.store"


def init_app(app: Flask, settings: Settings) -> None:
    """Makes the data folders, the Redis client and the results store (migrated now, at start)."""
    Storage(settings.data_dir).ensure()
    app.extensions[SETTINGS] = settings
    app.extensions[REDIS] = Redis.from_url(
        settings.redis_url, socket_connect_timeout=2, socket_timeout=5
    )
    app.extensions[STORE] = open_configured_store(settings)


def settings() -> Settings:
    return current_app.extensions[SETTINGS]


def redis() -> Redis:
    return current_app.extensions[REDIS]


def storage() -> Storage:
    return Storage(settings().data_dir)


def results_store() -> Engine:
    return current_app.extensions[STORE]
