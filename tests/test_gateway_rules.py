"""Pure gateway logic: Digital Link parsing, language choice, clone rules, Merkle proofs, limits."""

import time

import pytest
from eth_utils.crypto import keccak

from app.api.cache import Cached, ResponseCache, variant
from app.api.clone import ScanCount, ScanRecorder, assess, coarse_region
from app.api.i18n import CERTIFICATIONS, certification_label, pick_language
from app.api.linkset import find_link, links_for
from app.api.lots import verify_merkle_proof
from app.api.ratelimit import RateLimiter
from app.core.config import Settings
from app.gs1.digital_link import KeyKind, parse_path
from app.gs1.keys import InvalidKey

NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC
ITEM = "0x" + "12" * 32


@pytest.mark.parametrize(
    ("path", "kind", "canonical"),
    [
        ("/01/9506000134352/21/DIA-0001", KeyKind.ITEM, "/01/09506000134352/21/DIA-0001"),
        ("/01/09506000134352/10/LOT-7", KeyKind.LOT, "/01/09506000134352/10/LOT-7"),
        ("/01/09506000134352/10/LOT-7/21/A1", KeyKind.ITEM, "/01/09506000134352/10/LOT-7/21/A1"),
        ("/01/09506000134352/22/V2/10/L/21/S", KeyKind.ITEM, "/01/09506000134352/22/V2/10/L/21/S"),
        ("/01/96385074", KeyKind.PRODUCT, "/01/00000096385074"),
        ("/00/106141412345678908", KeyKind.UNIT, "/00/106141412345678908"),
        ("/01/09506000134352/21/A%2FB", KeyKind.ITEM, "/01/09506000134352/21/A%2FB"),
    ],
)
def test_digital_link_paths_normalise_to_the_canonical_form(path: str, kind: KeyKind, canonical: str) -> None:
    key = parse_path(path)
    assert key.kind == kind
    assert key.path == canonical


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/01/09506000134353/21/X", "check digit"),
        ("/01/12345/21/X", "5 digits"),
        ("/01/09506000134352/21/X/10/L", "order"),
        ("/01/09506000134352/21/" + "A" * 21, "1-20 characters"),
        ("/01/09506000134352/21/caf%C3%A9", "CSET 82"),
        ("/00/106141412345678909", "check digit"),
        ("/00/10614141234567890", "exactly 18 digits"),
        ("/01/09506000134352/21", "value is missing"),
        ("/01/09506000134352/21/A/21/B", "each at most once"),
        ("/01/09506000134352/235/T1", "/235/ is not one of them"),
        ("/00/106141412345678908/21/X", "takes no qualifiers"),
        ("/414/9506000134352", "starts with /01/"),
        ("/01/09506000134352/22/" + "V" * 21, "CPV"),
    ],
)
def test_invalid_digital_link_paths_say_why(path: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        parse_path(path)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh;q=0.8", "en"),
        ("fr-FR,zh-Hans;q=0.7,en;q=0.5", "zh"),
        ("de", "en"),
        (None, "en"),
        ("zh;q=bogus,en", "en"),
    ],
)
def test_language_follows_accept_language(header: str | None, lang: str) -> None:
    assert pick_language(header) == lang


def test_certification_kinds_are_named_in_each_language() -> None:
    assert CERTIFICATIONS["en"].keys() == CERTIFICATIONS["zh"].keys()
    assert certification_label("KIMBERLEY_PROCESS", "zh") == "金伯利进程证书"
    assert certification_label("KIMBERLEY_PROCESS", "en") == "Kimberley Process certificate"
    # A certifier's own kind is shown as written, in either language.
    assert certification_label("ECO_LABEL_B", "zh") == "eco label b"


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("", "json"),
        ("*/*", "json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html-en"),
        ("application/json, text/html", "html-en"),  # ties keep the preference order
        ("application/json, text/html;q=0", "json"),
        ("application/json;q=0.9, TEXT/HTML; Q=0.5", "json"),
        ("application/linkset+json, text/html;q=0.1", "linkset"),
        ("application/linkset+json;q=0.5, application/json", "json"),
        ("text/html;q=0, application/linkset+json;q=0", "json"),
        ("text/html;q=bogus, application/json;q=0.1", "json"),
        ("image/png", "json"),
        ("text/*", "html-en"),
        ("text/*;q=0.5, application/json", "json"),
    ],
)
def test_representation_follows_accept_q_values(accept: str, kind: str) -> None:
    assert variant(accept, None) == kind


def test_region_is_a_country_code_or_unknown() -> None:
    assert coarse_region("cn") == "CN"
    assert coarse_region("203.0.113.9") == "ZZ"
    assert coarse_region(None) == "ZZ"


def _counts(*rows: tuple[int, str, int]) -> list[ScanCount]:
    minute = int(NOW // 60)
    return [ScanCount(minute - ago, region, n) for ago, region, n in rows]


def test_quiet_scans_carry_no_risk() -> None:
    risk = assess(_counts((5, "CN", 2), (90, "CN", 1)), None, NOW, Settings())
    assert risk.level == "none" and risk.reasons == [] and risk.scans_24h == 3 and risk.regions_24h == ["CN"]


def test_scans_after_the_consumer_claim_are_flagged_beyond_the_owners_checks() -> None:
    claimed_at = int(NOW) - 600
    owner_checks = _counts((20, "CN", 1), (2, "CN", 3))  # the claim 10 minutes ago, then 3 scans
    assert assess(owner_checks, claimed_at, NOW, Settings()).reasons == []
    risk = assess(_counts((20, "CN", 1), (2, "CN", 3), (1, "CN", 1)), claimed_at, NOW, Settings())
    assert [r.code for r in risk.reasons] == ["scanned_after_claim"]
    assert "scanned 4 times after its owner claimed it" in risk.reasons[0].detail
    strict = assess(
        _counts((20, "CN", 1), (2, "CN", 1)), claimed_at, NOW, Settings(clone_scans_after_claim=0)
    )
    assert "scanned once after its owner claimed it" in strict.reasons[0].detail


def test_an_owner_checking_a_claimed_item_all_day_is_one_scan_and_four_shoppers_are_four() -> None:
    """A client counted once per minute: an owner opening their claimed item's page four times
    in a day (or an app polling it) was told "this code may be a copy"."""
    recorder, claimed_at = ScanRecorder(), int(NOW) - 6 * 3600
    for hours in (0, 1, 3, 5.5):  # the owner, through the day after claiming
        recorder.record(ITEM, "/01/x/21/y", "CN", client="198.51.100.7", now=claimed_at + 60 + hours * 3600)
    owner = assess(recorder.pending(ITEM), claimed_at, NOW, Settings())
    assert owner.reasons == [] and owner.scans_24h == 1
    for n in range(3):  # three more people scan the same code: four clients after the claim
        recorder.record(ITEM, "/01/x/21/y", "CN", client=f"203.0.113.{n}", now=NOW - 60)
    copies = assess(recorder.pending(ITEM), claimed_at, NOW, Settings())
    assert [r.code for r in copies.reasons] == ["scanned_after_claim"] and copies.scans_24h == 4
    recorder.record(ITEM, "/01/x/21/y", "CN", client="198.51.100.7", now=NOW + 86_400)  # the next day
    assert sum(count.count for count in recorder.pending(ITEM)) == 5


def test_too_many_regions_and_bursts_are_flagged() -> None:
    settings = Settings(clone_max_regions=2, clone_burst_per_minute=10)
    regions = assess(_counts((1, "CN", 1), (2, "US", 1), (3, "BR", 1), (4, "ZZ", 1)), None, NOW, settings)
    assert [r.code for r in regions.reasons] == ["too_many_regions"]
    assert regions.regions_24h == ["BR", "CN", "US"]
    burst = assess(_counts((0, "CN", 11)), None, NOW, settings)
    assert [r.code for r in burst.reasons] == ["scan_burst"]
    old = assess(_counts((2000, "CN", 500)), None, NOW, settings)
    assert old.reasons == [] and old.scans_24h == 0


def test_merkle_proofs_verify_like_openzeppelin() -> None:
    leaves = [keccak(text=f"item-{i}") for i in range(4)]

    def pair(a: bytes, b: bytes) -> bytes:
        return keccak(min(a, b) + max(a, b))

    left, right = pair(leaves[0], leaves[1]), pair(leaves[2], leaves[3])
    root = "0x" + pair(left, right).hex()
    proof = ["0x" + leaves[3].hex(), "0x" + left.hex()]
    assert verify_merkle_proof("0x" + leaves[2].hex(), proof, root)
    assert not verify_merkle_proof("0x" + leaves[1].hex(), proof, root)


def test_rate_limiter_counts_per_client_and_window() -> None:
    limiter = RateLimiter(2)
    assert limiter.allow("a", NOW) and limiter.allow("a", NOW)
    assert not limiter.allow("a", NOW)
    assert limiter.allow("b", NOW)
    assert limiter.allow("a", NOW + 60)
    assert RateLimiter(0).allow("a", NOW)


def test_an_expired_cache_entry_is_rebuilt_by_one_request_only() -> None:
    cache = ResponseCache(ttl=0.05)
    cache.put("/01/x", "json", Cached(200, [], b"old", None, "/01/x"), cache.generation)
    assert cache.get("/01/x", "json") is not None
    time.sleep(0.06)
    assert cache.get("/01/x", "json") is None  # this request rebuilds it
    stale = cache.get("/01/x", "json")
    assert stale is not None and stale.body == b"old"  # the others get the stale answer
    cache.observe_checkpoint(42)
    assert cache.get("/01/x", "json") is None  # a new checkpoint drops everything


def test_an_answer_read_before_the_checkpoint_moved_is_not_cached_after() -> None:
    """Review: a resolution reading checkpoint N stored its answer after the housekeeping thread
    had seen N+1 and dropped the cache, and it was served for up to twice the ttl."""
    cache = ResponseCache(ttl=60)
    cache.observe_checkpoint(1)
    read_at = cache.generation  # the resolution starts reading
    cache.observe_checkpoint(2)  # the indexer commits meanwhile
    cache.put("/01/x", "json", Cached(200, [], b"at 1", None, "/01/x"), read_at)
    assert cache.get("/01/x", "json") is None
    cache.put("/01/x", "json", Cached(200, [], b"at 2", None, "/01/x"), cache.generation)
    fresh = cache.get("/01/x", "json")
    assert fresh is not None and fresh.body == b"at 2"


def test_link_targets_get_each_value_percent_encoded() -> None:
    key = parse_path("/01/09506000134352/10/L%2F7/21/A%261%3Fx")
    template = "https://brand.example/recall?lot={lot}&serial={serial}&gtin={gtin}&sscc={sscc}#{path}"
    settings = Settings(link_targets={"gs1:recallStatus": template})
    recall = find_link(links_for(key, None, settings), "gs1:recallStatus")
    assert recall is not None
    assert recall.href == (
        "https://brand.example/recall?lot=L%2F7&serial=A%261%3Fx&gtin=09506000134352&sscc="
        "#/01/09506000134352/10/L%2F7/21/A%261%3Fx"
    )
