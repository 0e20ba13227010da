"""Shopper page text in English and Simplified Chinese, chosen by Accept-Language."""

from typing import Final

LANGUAGES: Final = ("en", "zh")

STATUS = {
    "en": {
        "active": "In the supply chain",
        "offered": "Being handed over",
        "offer_expired": "Handover offer expired",
        "sold": "Sold",
        "claimed": "Claimed by its owner",
        "recalled": "Recalled",
        "stolen": "Reported lost or stolen",
        "lost_stolen": "Reported lost or stolen",
        "destroyed": "Destroyed",
        "lost": "Reported lost",
    },
    "zh": {
        "active": "流通中",
        "offered": "交接中",
        "offer_expired": "交接邀约已过期",
        "sold": "已售出",
        "claimed": "已被物主认领",
        "recalled": "已召回",
        "stolen": "已报失或被盗",
        "lost_stolen": "已报失或被盗",
        "destroyed": "已销毁",
        "lost": "已报失",
    },
}

EVENTS = {
    "en": {
        "registered": "Registered by the brand",
        "attested": "Certified",
        "offered": "Handover offered",
        "offer_cancelled": "Handover cancelled",
        "handed_over": "Custody handed over",
        "sold": "Sold to a consumer",
        "recalled": "Recalled by the brand",
        "claimed": "Claimed by its owner",
        "reported_lost": "Reported lost",
        "found": "Found again",
        "destroyed": "Destroyed",
        "status_changed": "Status changed",
        "packed": "Packed into a logistic unit",
        "unpacked": "Unpacked from its logistic unit",
        "signed_handoff": "Custody handed over by signed handoff",
        "split": "Split off into a lot of its own",
        "unit_created": "Logistic unit created by its first holder",
        "attestation_revoked": "Certification withdrawn by its certifier",
        "contents_packed": "Packed into this unit",
        "contents_unpacked": "Taken out of this unit",
    },
    "zh": {
        "registered": "品牌方登记",
        "attested": "已认证",
        "offered": "发起交接",
        "offer_cancelled": "交接已取消",
        "handed_over": "保管权已交接",
        "sold": "已售予消费者",
        "recalled": "品牌方已召回",
        "claimed": "物主已认领",
        "reported_lost": "已报失",
        "found": "已找回",
        "destroyed": "已销毁",
        "status_changed": "状态已变更",
        "packed": "已装入物流单元",
        "unpacked": "已从物流单元取出",
        "signed_handoff": "凭双方签名交接保管权",
        "split": "从原批次分出为新批次",
        "unit_created": "物流单元由首位保管方创建",
        "attestation_revoked": "认证方已撤回认证",
        "contents_packed": "装入本单元",
        "contents_unpacked": "从本单元取出",
    },
}

KINDS = {
    "en": {"item": "Item", "lot": "Lot", "unit": "Logistic unit"},
    "zh": {"item": "单品", "lot": "批次", "unit": "物流单元"},
}
"""What a logistic unit's page calls a record whose key the gateway does not know yet."""

CERTIFICATIONS = {
    "en": {
        "GRADING_REPORT": "grading report",
        "RESALE_CHECK": "resale check",
        "KIMBERLEY_PROCESS": "Kimberley Process certificate",
        "CERTIFICATE_OF_ORIGIN": "certificate of origin",
        "CUSTOMS_CLEARANCE": "customs clearance",
        "QUALITY_INSPECTION": "quality inspection",
        "LAB_TEST": "laboratory test",
        "ORGANIC": "organic certification",
    },
    "zh": {
        "GRADING_REPORT": "分级报告",
        "RESALE_CHECK": "转售检验",
        "KIMBERLEY_PROCESS": "金伯利进程证书",
        "CERTIFICATE_OF_ORIGIN": "原产地证书",
        "CUSTOMS_CLEARANCE": "海关放行",
        "QUALITY_INSPECTION": "质量检验",
        "LAB_TEST": "实验室检测",
        "ORGANIC": "有机认证",
    },
}
"""Attestation kinds the shopper page names in each language. A kind is any 32-byte label
the certifier chose; one not listed here is shown as written, underscores as spaces."""


def certification_label(kind: str, lang: str) -> str:
    """The shopper's name for the attestation kind `kind` in `lang`."""
    return CERTIFICATIONS[lang].get(kind) or kind.replace("_", " ").lower()


TEXT = {
    "en": {
        "origin": "Origin",
        "brand": "Brand",
        "gtin": "GTIN",
        "serial": "Serial",
        "lot": "Lot",
        "held_by": "Held by",
        "sold_by": "Sold by (until its buyer claims it)",
        "offered_to": "Offered to",
        "its_owner": "Its owner, who claimed it",
        "offer_until": "until",
        "offer_expired_at": "offer expired",
        "certifications": "Certifications",
        "read_document": "Read the certificate",
        "document_hash": "document hash",
        "timeline": "Custody timeline",
        "block": "block",
        "verified": "Verified on chain",
        "verified_note": "Every fact above comes from the registry's events",
        "verified_pending": "; %s of them are still awaiting confirmation",
        "metadata_note": " and the product data matches its on-chain hash",
        "chain_id": "Chain id",
        "registry": "Registry",
        "record_id": "Record id",
        "check_yourself": "Check it yourself:",
        "proof_bundle": "proof bundle (JSON)",
        "epcis_events": "EPCIS events",
        "verify_with_node": (
            "Or check every fact on a node you trust with the OriginTrace command line,"
            " ORIGINTRACE_RPC_URL set to that node's address:"
        ),
        "merkle_note": " and the item's Merkle proof into its lot",
        "indexed": "Indexed block",
        "confirmation": "confirmation",
        "confirmations": "confirmations",
        "confirmations_of": "%s of %s confirmations",
        "full_stop": ".",
        "packed_records": "Records packed",
        "pending": "awaiting confirmation",
        "pending_note": "Steps awaiting confirmation: %s. A step is final once it is %s blocks deep.",
        "paused": (
            "The consortium paused this registry on %s: until it resumes, nothing new can be recorded"
            " (no registration, handover, sale, claim, recall, loss report or certification)."
        ),
        "warning": "Warning: this code may be a copy",
        "merkle": "Merkle proof",
        "merkle_ok": "Valid: this item belongs to the anchored lot",
        "merkle_bad": "Invalid: this item is not in the anchored lot",
        "items": "Items in the lot",
        "contents": "Contents",
        "and_more": "and %s more",
        "more_contents": "The first %s of %s are listed here; all of them, a page at a time:",
        "contents_json": "contents (JSON)",
        "more_packings": "The latest %s of its %s packing steps are shown; all of them, a page at a time:",
        "packings_json": "packing steps (JSON)",
        "unit": "Logistic unit",
        "with_unit": " (with the logistic unit it is packed in)",
        "gln_issued_by": "GLN issued by %s",
        "former_member": " (former member)",
        "colon": ": ",
        "error_400": "This is not a valid product code",
        "error_404": "No product is registered under this code",
        "error_429": "Too many scans from your network; try again in a minute",
        "error_request": "This address is not valid",
        "error_request_hint": "Check that the whole address was copied: part of it is missing or changed.",
        "error": "This page cannot be shown right now",
        "error_hint": "Check that the whole code was scanned. A damaged or copied label may not resolve.",
        "error_link_type_unavailable": "This product has no link of the kind this address asks for",
        "error_missing_key_value": "This code is incomplete: its number is missing",
        "error_not_a_unit": "This record is not a logistic unit, so it has no contents or packing steps",
        "error_no_such_page": "There is no page at this address",
        "open_product": "Open the product's page",
        "alert_recalled": (
            "Recalled by the brand: stop using this product and contact the brand or the seller."
        ),
        "alert_lost": (
            "Reported lost or stolen: do not buy it; if you are offered it, tell the seller's platform."
        ),
        "alert_destroyed": "Recorded as destroyed: a product showing this code is not the one registered.",
        "home_title": "Where products come from",
        "home_heading": "Check where a product comes from",
        "home_what": (
            "This gateway shows a registered product's origin, who has held it since, and its"
            " certificates, as the brands, carriers, certifiers and shops of a consortium recorded"
            " them on a blockchain registry."
        ),
        "home_scan": (
            "Scan the QR code on a product's label with your phone's camera: it opens that"
            " product's page here."
        ),
        "home_developers": "For developers",
        "home_api": (
            "The JSON API (records, custody history, EPCIS events, proof bundles to check them on"
            " your own node) is described at"
        ),
    },
    "zh": {
        "origin": "产地",
        "brand": "品牌",
        "gtin": "商品条码 (GTIN)",
        "serial": "序列号",
        "lot": "批号",
        "held_by": "当前保管方",
        "sold_by": "销售方（买家认领前）",
        "offered_to": "交接对象",
        "its_owner": "已认领的物主",
        "offer_until": "有效至",
        "offer_expired_at": "邀约已于此时过期：",
        "certifications": "认证",
        "read_document": "查看证书",
        "document_hash": "文件哈希",
        "timeline": "流转记录",
        "block": "区块",
        "verified": "链上验证",
        "verified_note": "以上信息均来自登记合约的链上事件",
        "verified_pending": "；其中 %s 条仍在等待确认",
        "metadata_note": "，商品资料与链上哈希一致",
        "chain_id": "链 ID",
        "registry": "登记合约",
        "record_id": "记录 ID",
        "check_yourself": "自行核验：",
        "proof_bundle": "证明包（JSON）",
        "epcis_events": "EPCIS 事件",
        "verify_with_node": (
            "也可用 OriginTrace 命令行在您信任的节点上逐条核验（将 ORIGINTRACE_RPC_URL 设为该节点的地址）："
        ),
        "merkle_note": "，且本件商品的默克尔证明属于该批次",
        "indexed": "已索引区块",
        "confirmation": "次确认",
        "confirmations": "次确认",
        "confirmations_of": "%s/%s 次确认",
        "full_stop": "。",
        "packed_records": "装入记录数",
        "pending": "等待确认",
        "pending_note": "等待确认的记录：%s 条。记录达到 %s 个区块深度后即为最终记录。",
        "paused": (
            "联盟已于 %s 暂停登记合约：恢复之前无法记录任何新信息"
            "（登记、交接、销售、认领、召回、挂失或认证）。"
        ),
        "warning": "警告：此二维码可能被复制",
        "merkle": "默克尔证明",
        "merkle_ok": "有效：此商品属于链上登记的批次",
        "merkle_bad": "无效：此商品不在链上登记的批次中",
        "items": "批内件数",
        "contents": "内含",
        "and_more": "另有 %s 件",
        "more_contents": "此处列出 %s 件（共 %s 件）；完整清单分页查看：",
        "contents_json": "内含清单（JSON）",
        "more_packings": "此处显示最近 %s 次装箱或取出（共 %s 次）；全部记录分页查看：",
        "packings_json": "装箱记录（JSON）",
        "unit": "物流单元",
        "with_unit": "（随所装入的物流单元）",
        "gln_issued_by": "GLN 由 %s 分配",
        "former_member": "（前成员）",
        "colon": "：",
        "error_400": "这不是有效的商品码",
        "error_404": "此码下没有登记任何商品",
        "error_429": "扫描过于频繁，请一分钟后再试",
        "error_request": "此网址无效",
        "error_request_hint": "请确认网址已完整复制：其中有部分缺失或被改动。",
        "error": "暂时无法显示此页面",
        "error_hint": "请确认完整扫描了二维码。标签损坏或被仿冒时可能无法识别。",
        "error_link_type_unavailable": "此商品没有该地址所要求类型的链接",
        "error_missing_key_value": "此码不完整：缺少编号",
        "error_not_a_unit": "此记录不是物流单元，没有内含清单或装箱记录",
        "error_no_such_page": "此网址没有页面",
        "open_product": "打开商品页面",
        "alert_recalled": "品牌方已召回此商品：请停止使用，并联系品牌方或销售方。",
        "alert_lost": "此商品已报失或被盗：请勿购买；如有人向您出售，请告知销售平台。",
        "alert_destroyed": "此商品已登记为销毁：带有此码的商品并非登记的那一件。",
        "home_title": "商品溯源",
        "home_heading": "查验商品的来源",
        "home_what": (
            "本网关展示已登记商品的产地、此后的各保管方及其认证，"
            "这些信息由联盟中的品牌方、承运方、认证机构和商家记录在区块链登记合约上。"
        ),
        "home_scan": "用手机相机扫描商品标签上的二维码，即可在此打开该商品的页面。",
        "home_developers": "开发者",
        "home_api": "JSON 接口（记录、流转记录、EPCIS 事件，以及可在您自己的节点上核验的证明包）的说明见",
    },
}


RISKS = {
    "en": {
        "scanned_after_claim": "scanned {times} after its owner claimed it; this code may be a copy",
        "too_many_regions": "scanned in {count} countries within 24 hours ({regions})",
        "scan_burst": "scanned {times} within one minute",
    },
    "zh": {
        "scanned_after_claim": "物主认领后又被扫描 {times}；此二维码可能被复制",
        "too_many_regions": "24 小时内在 {count} 个国家或地区被扫描（{regions}）",
        "scan_burst": "一分钟内被扫描 {times}",
    },
}
"""Why the clone rules flagged an item (app/api/clone.py), by rule code."""


def risk_detail(code: str, count: int, regions: list[str], lang: str) -> str:
    """The reason of clone rule `code`, which counted `count` scans or countries (`regions`)."""
    shown = count_text(count, lang)
    times = f"{shown} 次" if lang == "zh" else "once" if count == 1 else f"{shown} times"
    return RISKS[lang][code].format(times=times, count=shown, regions=", ".join(regions))


THOUSANDS: Final = {"en": ",", "zh": ","}
"""What groups a count's digits by three: a comma in English (1,000), and in Chinese too, as
Chinese sites and shops print quantities (1,000 件)."""


def count_text(count: int, lang: str) -> str:
    """How many of something, as `lang` writes it (every count a page shows goes through here,
    the pages' `count` filter: a lot of 1000 items read as a code, not a quantity)."""
    return f"{count:,}".replace(",", THOUSANDS[lang])


def pick_language(accept_language: str | None) -> str:
    """The supported language the client ranks highest (q-values honoured); English otherwise."""
    best, best_q = "en", 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > best_q:  # strict: earlier entries win ties
            best, best_q = primary, q
    return best
