"""Customers with follow-ups, tags and document metadata.

Names: surnames by their real frequency (王 李 张 刘 陈 … about 30% of people share the top
five), given names of one or two characters from a pool of common ones; ~5% enterprises
(北京恒信科技有限公司). Identity: checksum-valid resident ID numbers and mobiles, unique by
construction. Owners: the demo officers plus 48 bench officers in the four branch groups,
skewed (a few officers carry large books); department = the owner's. Credit levels, tags,
status (3% archived), follow-ups (0–3, with planned next follow-ups) and documents (0–2,
metadata only: the files do not exist) with realistic proportions.
"""

import os
import random
import shutil
import string
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from bench.generate import SEED, bulkload
from bench.generate.org import ensure_org
from loandesk.accounts.models import User
from loandesk.customers import bulk, identity
from loandesk.customers.models import Customer, CustomerNameGram, Document, FollowUp, Tag
from loandesk.customers.profile import INDIVIDUAL, Errors, clean_fields

# (surname, weight ‰) — approximate shares of the population.
SURNAMES = [
    ("王", 73), ("李", 72), ("张", 69), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 22),
    ("赵", 22), ("吴", 20), ("周", 19), ("徐", 16), ("孙", 15), ("马", 15), ("朱", 13),
    ("胡", 13), ("郭", 12), ("何", 12), ("高", 11), ("林", 11), ("罗", 9), ("郑", 9),
    ("梁", 9), ("谢", 8), ("宋", 7), ("唐", 7), ("许", 7), ("韩", 7), ("冯", 6), ("邓", 6),
    ("曹", 6), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 5), ("董", 5), ("袁", 5), ("潘", 5),
    ("于", 5), ("蒋", 5), ("蔡", 5), ("余", 5), ("杜", 5), ("叶", 4), ("程", 4), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 4), ("姚", 4), ("卢", 4), ("姜", 3),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("付", 3), ("方", 3), ("白", 2), ("邹", 2),
    ("孟", 2), ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("陶", 2), ("黎", 2), ("贺", 2),
    ("顾", 2), ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("严", 2),
    ("覃", 1), ("武", 2), ("戴", 2), ("莫", 1), ("孔", 1), ("向", 1), ("汤", 1), ("欧阳", 1),
    ("司马", 1), ("单", 1), ("解", 1),
]  # fmt: skip
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华辉鹏飞玉兰英桂秀红梅琳婷雪建国志海燕欣怡子涵"
    "浩然宇轩梓萱雨桐俊思远佳琪晓东文斌波宁亮成德龙凤云峰晨阳鑫斌凯博诚睿嘉瑞萌颖琦玲晶莉"
    "慧瑶婧倩璐茜蕾薇彤悦欢小春秋冬金银宝家安康乐福永长荣翠珍丹红梓涵一诺紫若晗轩泽铭宏"
)
CITIES = ["北京", "上海", "天津", "深圳", "杭州", "南京", "成都", "武汉", "西安", "苏州"]
BRANDS = "恒信华宇鑫源瑞丰金通新元盛达宏远中科天和顺通锦程浦江嘉禾长城卓越汇通"
INDUSTRIES = [
    ("科技", "软件和信息技术服务业"), ("商贸", "批发和零售业"), ("物流", "交通运输业"),
    ("餐饮管理", "餐饮业"), ("建筑工程", "建筑业"), ("农业发展", "农林牧渔业"),
    ("服饰", "制造业"), ("文化传媒", "文化、体育和娱乐业"),
]  # fmt: skip
DISTRICTS = [
    "110105", "110108", "110101", "110106", "110114", "310115", "310104", "310106", "310112",
    "310110", "120101", "440305", "330106", "320102", "510104", "420106", "610113",
]  # fmt: skip
BIRTH_REGIONS = [
    "110105", "310115", "130102", "370102", "410105", "510104", "320102", "330106", "420106",
    "440305", "350102", "430102", "610113", "500103", "340102", "360102", "210102", "230102",
]  # fmt: skip
MOBILE_PREFIXES = ["138", "139", "135", "136", "137", "150", "151", "158", "186", "187", "188"]
CREDIT = [("", 40), ("A", 15), ("B", 25), ("C", 12), ("watch", 5), ("blacklist", 3)]
CHANNELS = [("walk_in", 30), ("referral", 25), ("phone", 15), ("online", 15), ("partner", 10)]
MARITAL = ["", "single", "married", "married", "married", "divorced"]
EDUCATION = ["", "junior_high", "senior_high", "college", "bachelor", "bachelor", "master"]
EMPLOYERS = ["个体经营", "自由职业", "务农", "", "某某科技有限公司", "某某商贸有限公司"]
STREETS = ["建国路", "中关村大街", "世纪大道", "淮海中路", "人民路", "解放路", "长安街"]
BENCH_TAGS = [("按时还款", "#07c160"), ("多头借贷", "#ee0a24"), ("续贷意向", "#1989fa")]
FOLLOW_UP_TEXTS = [
    "电话沟通，客户有资金需求，约定下周面谈。",
    "上门拜访，了解经营情况，店铺运营正常。",
    "微信发送产品资料，客户表示考虑中。",
    "客户资料已补齐，提交审批。",
    "提醒客户本月还款日，客户确认按时还款。",
]
DOC_KINDS = [
    ("id_front", "image/jpeg"),
    ("id_back", "image/jpeg"),
    ("income_proof", "application/pdf"),
]

EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400  # customers were created over three years
BATCH = 20_000


def _weighted(rng: random.Random, pairs: list[tuple[str, int]], k: int) -> list[str]:
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    return rng.choices(values, weights=weights, k=k)


class Maker:
    """Produces customer rows one by one, deterministically."""

    def __init__(self, seed: int, officers: list[User], tags: list[int]) -> None:
        self.rng = random.Random(seed)
        self.officers = officers
        # A few officers carry large books (Zipf-like weights).
        self.officer_weights = [1 / (i + 1) ** 0.6 for i in range(len(officers))]
        self.tags = tags
        self.surnames = _weighted(self.rng, SURNAMES, 50_000)
        self.credit = _weighted(self.rng, CREDIT, 50_000)
        self.channels = _weighted(self.rng, CHANNELS, 50_000)
        self.regions: dict[str, dict[str, Any]] = {}
        self.cleaned: dict[str, dict[str, Any]] = {}

    def region(self, code: str) -> dict[str, Any]:
        if code not in self.regions:
            errors = Errors()
            codes = {
                "province_code": code[:2] + "0000",
                "city_code": code[:4] + "00",
                "district_code": code,
            }
            out = clean_fields(codes, kind=INDIVIDUAL, errors=errors)
            assert not errors, errors.messages()
            self.regions[code] = out
        return self.regions[code]

    def person_name(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN_CHARS)
        if rng.random() < 0.7:
            given += rng.choice(GIVEN_CHARS)
        return rng.choice(self.surnames) + given

    def company_name(self) -> str:
        rng = self.rng
        brand = rng.choice(BRANDS) + rng.choice(BRANDS)
        return f"{rng.choice(CITIES)}{brand}{rng.choice(INDUSTRIES)[0]}有限公司"

    def customer(self, n: int) -> tuple[dict[str, Any], list[int]]:
        """Row n (0-based) as {attname: value}, and its tag ids."""
        rng = self.rng
        enterprise = rng.random() < 0.05
        kind = "enterprise" if enterprise else INDIVIDUAL
        owner = rng.choices(self.officers, weights=self.officer_weights)[0]
        raw: dict[str, Any] = {}
        if enterprise:
            raw["name"] = self.company_name()
            industry = rng.choice(INDUSTRIES)
            raw["industry"] = industry[1]
            raw["legal_representative"] = self.person_name()
            # Unique USCC: n spread over the 9-digit organisation code.
            body = f"91{rng.choice(DISTRICTS)}{(n * 7_919 + 1_000_003) % 10**9:09d}"
            raw["uscc"] = identity.make_uscc(body)
        else:
            raw["name"] = self.person_name()
            # Unique by construction: n → (birth day, sequence); region is decoration.
            birth = date(1960, 1, 1) + timedelta(days=n % 16_000)
            raw["id_number"] = identity.make_id_number(
                rng.choice(BIRTH_REGIONS), birth, (n // 16_000) % 1000
            )
            raw["marital_status"] = rng.choice(MARITAL)
            raw["education"] = rng.choice(EDUCATION)
            raw["employer"] = rng.choice(EMPLOYERS)
        # Unique mobile: n * 7919 mod 10^8 is a permutation of 0..10^8-1.
        raw["phone"] = rng.choice(MOBILE_PREFIXES) + f"{(n * 7_919 + 4_321) % 10**8:08d}"
        raw["address"] = f"{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        raw["monthly_income"] = str(rng.randint(30, 500) * 100)
        raw["credit_level"] = self.credit[n % 50_000]
        raw["source_channel"] = self.channels[(n * 7) % 50_000]
        errors = Errors()
        # The service layer's own cleaning: pinyin/initials, blind indexes, gender, birth date.
        row = clean_fields(raw, kind=kind, errors=errors)
        assert not errors, (raw, errors.messages())
        row.update(self.region(rng.choice(DISTRICTS)))
        created = EPOCH + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        updated = created + timedelta(seconds=rng.randrange(90 * 86400))
        row.update(
            kind=kind,
            status="archived" if rng.random() < 0.03 else "active",
            owner_id=owner.pk,
            department_id=owner.department_id,
            created_by_id=owner.pk,
            created_at=created,
            updated_at=updated,
        )
        tags = rng.sample(self.tags, rng.choice((0, 0, 0, 1, 1, 2)))
        return row, tags


TABLES = (
    Customer._meta.db_table,
    Customer.tags.through._meta.db_table,
    FollowUp._meta.db_table,
    Document._meta.db_table,
    CustomerNameGram._meta.db_table,  # PostgreSQL: filled per batch (name_grams_by_batch)
)

# The rows of customers_customer's name-gram trigger (customers migration 0003), for the ids in
# a range (a batch's ids are consecutive: reserved from the sequence during the load).
_PG_GRAMS = """
INSERT INTO customers_customernamegram (customer_id, gram)
SELECT DISTINCT c.id, substr(translate(c.name, %s, %s), p, w)
FROM customers_customer AS c,
     generate_series(1, char_length(c.name)) AS p, (VALUES (1), (2)) AS widths(w)
WHERE c.id > %s AND c.id <= %s AND p + w - 1 <= char_length(c.name)
"""


@contextmanager
def name_grams_by_batch(active: bool) -> Iterator[None]:
    """PostgreSQL bulk load (`active`): the name-gram trigger is off while the customers are
    copied; each batch's grams are inserted set-based by the background writer right after the
    batch's COPY (`_PG_GRAMS`, the trigger's rows), beside the generator's next batch. Per row
    the trigger cost a PL/pgSQL call and ~5 gram inserts into three indexes plus a deferred
    foreign-key check. Enter it before the writer, so the trigger comes back only once every
    queued job ran. Nothing else may write customers meanwhile (the load's premise); a load
    that raises gets the trigger back (generate into a fresh database)."""
    if not active:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE customers_customer DISABLE TRIGGER customers_name_grams")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE customers_customer ENABLE TRIGGER customers_name_grams")


# What the builders (forked processes, `bulkload.Builders`) build from: set before the fork.
_BUILDING: dict[str, Any] = {}


def generate(
    count: int,
    *,
    seed: int = SEED,
    log: bool = True,
    load_mode: bool = False,
    processes: int | None = None,
) -> dict[str, int]:
    """Adds `count` customers (with their follow-ups, tags and documents) to the current
    database. Deterministic for a given (count, seed) on an empty customer table, whatever the
    number of `processes` building the batches (default: one per core in load mode, else
    none). `load_mode` (the command line's): the tables' secondary indexes are built after the
    load and SQLite writes without journal (bench/generate/bulkload.py); call it outside any
    transaction."""
    officers = ensure_org()
    for name, color in BENCH_TAGS:
        Tag.objects.get_or_create(name=name, defaults={"color": color})
    tag_ids = list(Tag.objects.order_by("name").values_list("pk", flat=True))
    maker = Maker(seed, officers, tag_ids)
    for code in DISTRICTS:  # cached before the fork: builders never touch the database
        maker.region(code)
    if processes is None:
        processes = bulkload.builder_count() if load_mode else 0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # Random blind-index inserts: keep the index pages in memory (this connection).
            cursor.execute("PRAGMA cache_size = -524288")  # 512 MB
    started = time.perf_counter()
    totals = {"customers": 0, "tags": 0, "follow_ups": 0, "documents": 0}
    grams_by_batch = load_mode and connection.vendor == "postgresql"
    # PostgreSQL in load mode the builders return COPY text, which the background writer
    # sends as is.
    with ExitStack() as stack:
        stack.callback(_BUILDING.clear)
        # SQLite in load mode with builders: they stage each batch in a file of its own beside
        # the database, which the generator copies in and removes (the clones' way, see
        # `loans.CloningProcess`): binding every value of 1m customers, their follow-ups and
        # documents on the generator's connection was most of the phase.
        stage_dir = ""
        beside = bulkload.sqlite_file_dir()
        if load_mode and processes and connection.vendor == "sqlite" and beside is not None:
            stage_dir = tempfile.mkdtemp(prefix="loandesk-customers-", dir=beside)
            stack.callback(shutil.rmtree, stage_dir, True)
        _BUILDING.update(
            maker=maker,
            seed=seed,
            text=grams_by_batch,
            now=datetime.now(UTC),
            stage_dir=stage_dir,
        )
        if load_mode:
            stack.enter_context(bulkload.sqlite_unjournaled())
            stack.enter_context(bulkload.deferred_indexes(TABLES, log=log))
        # Forked before the writer's thread starts.
        pool = stack.enter_context(bulkload.builders(_build, processes))
        stack.enter_context(name_grams_by_batch(grams_by_batch))
        # PostgreSQL in load mode: COPY on a second connection while the next batch is built
        # (drained before the indexes are rebuilt).
        write = stack.enter_context(bulkload.writer(load_mode))
        copy = write if isinstance(write, bulkload.BackgroundWriter) else None
        assert copy is not None or not grams_by_batch  # the writer takes the grams' INSERTs
        with transaction.atomic():
            # All at once, for the builders; nothing else inserts customers during the load.
            ids = bulk.reserve_ids(Customer, count)
        batches = ((start, ids[start : start + BATCH]) for start in range(0, count, BATCH))
        for batch_ids, tables, staging in pool.map(batches):
            if staging:
                with bulkload.attached(staging, "customers_batch"), transaction.atomic():
                    bulkload.copy_staged(
                        "customers_batch", [(t, c, str(name)) for t, c, name, _ in tables]
                    )
                os.remove(staging)
                for table, _, _, n in tables:
                    totals[_TOTALS[table]] += n
            else:
                with transaction.atomic():
                    for table, columns, rows, n in tables:
                        if isinstance(rows, str):
                            write(table, columns, (), text=rows)
                        else:
                            write(table, columns, rows)
                        totals[_TOTALS[table]] += n
                        if grams_by_batch and table == Customer._meta.db_table:
                            assert copy is not None
                            copy.statement(
                                CustomerNameGram._meta.db_table,
                                _PG_GRAMS,
                                [
                                    string.ascii_uppercase,
                                    string.ascii_lowercase,
                                    min(batch_ids) - 1,
                                    max(batch_ids),
                                ],
                            )
            if log:
                done = totals["customers"]
                rate = done / (time.perf_counter() - started)
                print(
                    f"  customers {done:,}/{count:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True
                )
    bulkload.analyze()  # fresh planner statistics on both engines
    return totals


_TOTALS = {
    Customer._meta.db_table: "customers",
    Customer.tags.through._meta.db_table: "tags",
    FollowUp._meta.db_table: "follow_ups",
    Document._meta.db_table: "documents",
}
Built = tuple[list[int], list[tuple[str, list[str], str | list[list[Any]], int]], str]


def _build(start: int, ids: list[int]) -> Built:
    """One batch's rows, per table: (table, columns, rows, count), and the staging file's path
    ("" when not staged). The rows are COPY text (PostgreSQL in load mode), value lists, or,
    staged (SQLite in load mode with builders), the name of their table in the batch's staging
    file (`bulkload.stage`). Runs in a builder process (or in the generator with no
    builders)."""
    maker: Maker = _BUILDING["maker"]
    maker.rng = random.Random(f"{_BUILDING['seed']}:{start}")  # per batch: see `Builders`
    customers, links, follow_ups, documents = _rows(maker, start, ids)
    tables: list[tuple[str, list[str], str | list[list[Any]], int]] = []
    staging = ""
    db = None
    if _BUILDING["stage_dir"]:
        staging = os.path.join(_BUILDING["stage_dir"], f"batch-{start}.sqlite3")
        db = bulkload.staging_file(staging)
        db.execute("BEGIN")
    parts: list[tuple[type[Model], list[Any], bool]] = [
        (Customer, customers, True),
        (Customer.tags.through, links, False),
        (FollowUp, follow_ups, False),
        (Document, documents, False),
    ]
    try:
        for k, (model, rows, with_pk) in enumerate(parts):
            columns, prepared = bulk.prepare(model, rows, with_pk=with_pk, now=_BUILDING["now"])
            out: str | list[list[Any]]
            if db is not None:
                out = f"t{k}"
                bulkload.stage(db, out, columns, prepared)
            elif _BUILDING["text"]:
                out = bulkload.copy_lines(prepared)
            else:
                out = list(prepared)
            tables.append((model._meta.db_table, columns, out, len(rows)))
        if db is not None:
            db.execute("COMMIT")
    finally:
        if db is not None:
            db.close()
    return ids, tables, staging


def _rows(
    maker: Maker, start: int, ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, int]], list[dict[str, Any]], list[dict[str, Any]]]:
    rng = maker.rng
    customers: list[dict[str, Any]] = []
    links: list[dict[str, int]] = []
    follow_ups: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    for customer_id, n in zip(ids, range(start, start + len(ids)), strict=True):
        row, tags = maker.customer(n)
        row["id"] = customer_id
        links.extend({"customer_id": customer_id, "tag_id": t} for t in tags)
        at = row["created_at"]
        last = None
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            at = at + timedelta(days=rng.randint(1, 60), seconds=rng.randrange(86400))
            planned = at + timedelta(days=rng.randint(1, 14)) if rng.random() < 0.5 else None
            follow_ups.append(
                {
                    "customer_id": customer_id,
                    "author_id": row["owner_id"],
                    "kind": rng.choice(("call", "call", "visit", "wechat", "note")),
                    "content": rng.choice(FOLLOW_UP_TEXTS),
                    "next_follow_up_at": planned,
                    "closed_at": None,
                    "created_at": at,
                }
            )
            last = follow_ups[-1]
        if last is not None:
            row["last_follow_up_at"] = last["created_at"]
            row["next_follow_up_at"] = last["next_follow_up_at"]
            for earlier in follow_ups[-3:-1]:
                if earlier["customer_id"] == customer_id:
                    earlier["closed_at"] = last["created_at"]
        for d in range(rng.choice((0, 0, 1, 1, 2))):
            kind, content_type = DOC_KINDS[d % len(DOC_KINDS)]
            extension = "pdf" if content_type == "application/pdf" else "jpg"
            documents.append(
                {
                    "customer_id": customer_id,
                    "kind": kind,
                    "file": f"bench/{customer_id}-{d}.{extension}",
                    "original_name": f"{kind}.{extension}",
                    "content_type": content_type,
                    "size": rng.randint(80_000, 2_000_000),
                    "sha256": f"{rng.getrandbits(256):064x}",
                    "uploaded_by_id": row["owner_id"],
                    "created_at": row["created_at"],
                }
            )
        customers.append(row)
    return customers, links, follow_ups, documents
