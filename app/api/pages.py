"""Server-rendered shopper pages (Jinja2, no JavaScript)."""

from jinja2 import Environment, PackageLoader, select_autoescape

from app.api.models import ItemPublic

_env = Environment(loader=PackageLoader("app.api", "templates"), autoescape=select_autoescape(["html"]))

STATUS_LABELS = {
    "active": "In the supply chain",
    "offered": "Being handed over",
    "sold": "Sold",
}
EVENT_LABELS = {
    "registered": "Registered by the brand",
    "attested": "Certified",
    "offered": "Handover offered",
    "offer_cancelled": "Handover cancelled",
    "handed_over": "Custody handed over",
    "sold": "Sold to a consumer",
}


def render_item_page(item: ItemPublic) -> str:
    return _env.get_template("item.html").render(
        item=item, status_label=STATUS_LABELS.get(item.status, item.status), labels=EVENT_LABELS
    )
