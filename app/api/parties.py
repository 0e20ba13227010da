"""The parties a view names (brands, holders, certifiers): consortium members with their name
and place, looked up by address in as few queries as the view needs."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select

from app.api.models import Party
from app.api.places import PlaceDirectory
from app.chain.member_names import Position
from app.db.reads import PreparedRead
from app.db.schema import members

MEMBERS_BY_ADDRESS = PreparedRead(
    select(members.c.address, members.c.name, members.c.gln, members.c.active, members.c.history).where(
        members.c.address.in_(bindparam("addresses", expanding=True))
    )
)


class Parties:
    """Members by address for the views read in one connection: each address is looked up
    once (one query for all the parties of a view), never the whole consortium per lookup."""

    def __init__(self, conn: Connection, places: PlaceDirectory) -> None:
        self.conn, self.places = conn, places
        self._known: dict[str, Party] = {}
        self._history: dict[str, list[tuple[Position, str, str]]] = {}
        """Each member's (position, name, GLN) after each admission and GLN change."""
        self._looked_up: set[str] = set()

    def _remember(self, rows: Iterable[Any]) -> None:
        for row in rows:
            place = self.places.place(row.gln)
            self._known[row.address] = Party(
                address=row.address, name=row.name or None, place=place, member=bool(row.active)
            )
            self._history[row.address] = [((b, i), name, gln) for b, i, name, gln in row.history or ()]

    def load(self, addresses: Iterable[str | None]) -> None:
        """Look up, in one query, the members among `addresses` not looked up yet."""
        missing = sorted({a for a in addresses if a} - self._looked_up)
        if missing:
            self._remember(MEMBERS_BY_ADDRESS.rows(self.conn, addresses=missing))
        self._looked_up.update(missing)

    def party(self, address: str, at: Position | None = None) -> Party:
        """The member (or former member) at `address` with its name and place, or a nameless
        non-member; `at` a fact's position, with the name and place it had then (a member
        re-admitted under another name, or given another GLN, took earlier steps under the
        earlier ones). `member` says whether it is a member now."""
        self.load([address])
        now = self._known.get(address)
        if now is None:
            return Party(address=address, name=None, place=None, member=False)
        then = self._as_of(address, at) if at is not None else None
        if then is None:
            return now
        name, gln = then
        place = self.places.place(gln) if gln else None
        return Party(address=address, name=name or None, place=place, member=now.member and bool(name))

    def _as_of(self, address: str, at: Position) -> tuple[str, str] | None:
        """(name, GLN) of `address` at `at`, when it differs from its name and GLN now: ("", "")
        before its first admission (a consumer who claimed an item, admitted later)."""
        history = self._history.get(address, [])
        if not history:
            return None
        earlier = [(name, gln) for position, name, gln in history if position <= at]
        then = earlier[-1] if earlier else ("", "")
        return None if then == history[-1][1:] else then

    def gln_at(self, address: str, at: Position) -> str | None:
        """The valid GLN `address` had at `at`, if it was a member with one."""
        party = self.party(address, at)
        return party.place.gln if party.place else None
