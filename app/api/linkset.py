"""Digital Link links of a resolved key: the RFC 9264 linkset and `linkType` redirects."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from app.core.config import LINK_PLACEHOLDERS, Settings
from app.gs1.digital_link import DigitalLink

GS1_VOC = "https://gs1.org/voc/"


@dataclass(frozen=True)
class Link:
    rel: str
    """Short GS1 link type, e.g. gs1:pip."""
    href: str
    title: str
    type: str


def full_rel(link_type: str) -> str:
    """gs1:pip or https://gs1.org/voc/pip -> https://gs1.org/voc/pip."""
    return GS1_VOC + link_type.removeprefix("gs1:") if link_type.startswith("gs1:") else link_type


def links_for(key: DigitalLink, record_id: str | None, settings: Settings) -> list[Link]:
    """The built-in links of `key`, then any configured in ORIGINTRACE_LINK_TARGETS: its page,
    then, for the record `record_id` it resolved to, what that page links to: the record's EPCIS
    events, its certifications and its proof bundle. An item of an anchored lot (`key` names
    its lot and serial) is no record of its own: its events are its lot's (`record_id`), and its
    proof bundle proves it in the lot."""
    base, canonical = settings.base_url, settings.base_url + key.path
    links = [Link("gs1:pip", canonical, "Product information and verified origin", "text/html")]
    if record_id is not None:
        api = f"{base}/api/v1/items/{record_id}"
        links.append(
            Link("gs1:traceability", api + "/epcis", "Custody events (EPCIS 2.0)", "application/ld+json")
        )
        if key.lot is not None and key.serial is not None:  # an item of an anchored lot
            lot, serial = quote(key.lot, safe=""), quote(key.serial, safe="")
            proof = f"{base}/api/v1/lots/{key.gtin}/{lot}/items/{serial}/proof"
        else:
            certifications = api + "/certifications"
            links.append(
                Link("gs1:certificationInfo", certifications, "Certifier attestations", "application/json")
            )
            proof = api + "/proof"
        links.append(Link("gs1:verificationService", proof, "Proof bundle", "application/json"))
    values = {name: quote(getattr(key, name) or "", safe="") for name in LINK_PLACEHOLDERS}
    values["path"] = key.path  # percent-encoded already, its slashes kept
    for link_type, template in settings.link_targets.items():
        links.append(Link(link_type, template.format(**values), link_type, "text/html"))
    return links


def linkset(key: DigitalLink, links: list[Link], settings: Settings) -> dict[str, Any]:
    """RFC 9264 JSON linkset anchored at the canonical URL, with GS1 relation types."""
    context: dict[str, Any] = {"anchor": settings.base_url + key.path}
    for link in links:
        context.setdefault(full_rel(link.rel), []).append(
            {"href": link.href, "title": link.title, "type": link.type}
        )
    context[GS1_VOC + "defaultLink"] = [{"href": links[0].href, "title": links[0].title}]
    return {"linkset": [context]}


def find_link(links: list[Link], link_type: str) -> Link | None:
    """The link of `link_type` (short gs1: or full form); gs1:defaultLink is the first link."""
    wanted = full_rel(link_type)
    if wanted == GS1_VOC + "defaultLink":
        return links[0]
    return next((link for link in links if full_rel(link.rel) == wanted), None)
