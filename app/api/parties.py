"""The parties a view names (brands, holders, certifiers): consortium members with their name
and place, looked up by address in as few queries as the view needs."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select

from app.api.models import Party
from app.api.places import PlaceDirectory
from app.db.reads import PreparedRead
from app.db.schema import members

MEMBERS_BY_ADDRESS = PreparedRead(
    select(members.c.address, members.c.name, members.c.gln, members.c.active).where(
        members.c.address.in_(bindparam("addresses", expanding=True))
    )
)


class Parties:
    """Members by address for the views read in one connection: each address is looked up
    once (one query for all the parties of a view), never the whole consortium per lookup."""

    def __init__(self, conn: Connection, places: PlaceDirectory) -> None:
        self.conn, self.places = conn, places
        self._known: dict[str, Party] = {}
        self._looked_up: set[str] = set()

    def _remember(self, rows: Iterable[Any]) -> None:
        for row in rows:
            place = self.places.place(row.gln)
            self._known[row.address] = Party(
                address=row.address, name=row.name or None, place=place, member=bool(row.active)
            )

    def load(self, addresses: Iterable[str | None]) -> None:
        """Look up, in one query, the members among `addresses` not looked up yet."""
        missing = sorted({a for a in addresses if a} - self._looked_up)
        if missing:
            self._remember(MEMBERS_BY_ADDRESS.rows(self.conn, addresses=missing))
        self._looked_up.update(missing)

    def party(self, address: str) -> Party:
        """The member (or former member) at `address` with its name and place, or a nameless
        non-member."""
        self.load([address])
        return self._known.get(address) or Party(address=address, name=None, place=None, member=False)

    def glns(self, addresses: Iterable[str]) -> dict[str, str]:
        """Address -> GLN of those of `addresses` that are members with a valid GLN."""
        wanted = set(addresses)
        self.load(wanted)
        return {a: party.place.gln for a in wanted if (party := self._known.get(a)) and party.place}
