"""Typed FastAPI dependencies: settings, the place directory and a database connection."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from app.api.places import PlaceDirectory
from app.core.config import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_places(request: Request) -> PlaceDirectory:
    places: PlaceDirectory = request.app.state.places
    return places


def get_connection(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.connect() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
PlacesDep = Annotated[PlaceDirectory, Depends(get_places)]
