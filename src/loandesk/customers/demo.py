"""Demo data for the customer center: role grants, tags, ~40 realistic customers with valid
(generated) ID numbers, mobiles and follow-ups. Idempotent: a second run adds nothing.

Written with bulk inserts (a handful of queries) because every test that uses the demo
organisation runs it; demo data is seeded, not entered, so it writes no audit or outbox rows.
"""

import random
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from loandesk.accounts.models import Role, User
from loandesk.accounts.phones import normalize_mobile
from loandesk.customers import identity
from loandesk.customers.models import Customer, FollowUp, Tag, TimelineEvent
from loandesk.customers.permissions import DEMO_ROLE_GRANTS
from loandesk.customers.profile import id_number_index, phone_index

TAGS = [
    ("优质客户", "#07c160"),
    ("老客户", "#1989fa"),
    ("待补件", "#ff976a"),
    ("高意向", "#ee0a24"),
    ("小微企业", "#7232dd"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓东",
    "志强",
    "海燕",
    "欣怡",
    "子涵",
    "浩然",
    "宇轩",
    "梓萱",
    "雨桐",
    "俊杰",
    "思远",
    "佳琪",
]
BIRTH_REGIONS = [
    "110105",
    "110108",
    "310115",
    "310104",
    "130102",
    "370102",
    "410105",
    "510104",
    "320102",
    "330106",
    "420106",
    "440305",
    "350102",
    "430102",
    "610113",
    "500103",
]
BEIJING = [("110105", "朝阳区"), ("110108", "海淀区"), ("110101", "东城区"), ("110106", "丰台区")]
SHANGHAI = [
    ("310115", "浦东新区"),
    ("310104", "徐汇区"),
    ("310106", "静安区"),
    ("310112", "闵行区"),
]
STREETS = [
    "建国路",
    "中关村大街",
    "望京西路",
    "世纪大道",
    "淮海中路",
    "南京西路",
    "长安街",
    "张江路",
]
EMPLOYERS = [
    "自由职业",
    "北京某科技有限公司",
    "上海某贸易有限公司",
    "个体工商户",
    "某市第一人民医院",
    "某区教育局",
    "顺丰速运",
    "某餐饮管理有限公司",
]
PREFIXES = [
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "189",
    "180",
    "181",
    "183",
]
ENTERPRISES = [
    ("北京华信智能科技有限公司", "110105", "软件和信息技术服务业", "officer1"),
    ("北京顺通物流有限公司", "110106", "交通运输业", "officer1"),
    ("上海浦江餐饮管理有限公司", "310115", "餐饮业", "officer2"),
    ("上海锦程服饰贸易有限公司", "310104", "批发和零售业", "officer2"),
]
FOLLOW_UP_TEXTS = [
    ("call", "电话沟通了贷款需求,客户计划装修,资金需求约 20 万"),
    ("visit", "上门拜访,核实了经营场所和流水情况"),
    ("wechat", "微信发送了产品资料和所需材料清单"),
    ("note", "客户资料已基本齐全,待补充收入证明"),
    ("call", "电话回访,客户表示下周来网点面签"),
]
CUSTOMER_COUNT = 36


def grant_demo_permissions() -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


def _people(rng: random.Random) -> list[dict[str, Any]]:
    people = []
    used_phones: set[str] = set()
    for n in range(CUSTOMER_COUNT):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        birth = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
        id_number = identity.make_id_number(rng.choice(BIRTH_REGIONS), birth, rng.randrange(1, 999))
        while True:
            phone = rng.choice(PREFIXES) + f"{rng.randrange(0, 10**8):08d}"
            if phone not in used_phones and normalize_mobile(phone) == phone:
                used_phones.add(phone)
                break
        owner = "officer1" if n % 2 == 0 else "officer2"
        people.append({"name": name, "id_number": id_number, "phone": phone, "owner": owner})
    return people


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    grant_demo_permissions()
    users: dict[str, User] = context.get("users", {})
    if "officer1" not in users or "officer2" not in users:
        return 0
    tags = []
    for name, color in TAGS:
        tag, _ = Tag.objects.get_or_create(name=name, defaults={"color": color})
        tags.append(tag)
    rng = random.Random(20261128)
    people = _people(rng)
    now = timezone.now()
    existing_ids = set(
        Customer.objects.filter(
            id_number_bidx__in=[id_number_index(p["id_number"]) for p in people]
        ).values_list("id_number_bidx", flat=True)
    )
    existing_uscc = set(Customer.objects.filter(uscc__isnull=False).values_list("uscc", flat=True))
    new: list[tuple[Customer, list[Tag]]] = []
    for n, person in enumerate(people):
        rid = identity.clean_id_number(person["id_number"])
        bidx = id_number_index(rid.number)
        if bidx in existing_ids:
            continue
        owner = users[person["owner"]]
        district = rng.choice(BEIJING if person["owner"] == "officer1" else SHANGHAI)
        province = district[0][:2] + "0000"
        full, initials = identity.name_pinyin(person["name"])
        created = now - timedelta(days=rng.randrange(5, 200), minutes=rng.randrange(0, 600))
        customer = Customer(
            kind=Customer.Kind.INDIVIDUAL,
            name=person["name"],
            id_number=rid.number,
            id_number_bidx=bidx,
            phone=person["phone"],
            phone_bidx=phone_index(person["phone"]),
            gender=rid.gender,
            birth_date=rid.birth_date,
            province_code=province,
            province_name="北京市" if province == "110000" else "上海市",
            city_code=province[:2] + "0100",
            city_name="北京市" if province == "110000" else "上海市",
            district_code=district[0],
            district_name=district[1],
            address=f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
            employer=rng.choice(EMPLOYERS),
            monthly_income=rng.randrange(40, 400) * 10000,
            marital_status=rng.choice(["single", "married", "married", "divorced"]),
            education=rng.choice(["senior_high", "college", "bachelor", "bachelor", "master"]),
            credit_level=rng.choice(
                ["A", "A", "B", "B", "C", "", "watch"] + (["blacklist"] if n == 7 else [])
            ),
            source_channel=rng.choice(["walk_in", "referral", "phone", "online", "partner"]),
            owner=owner,
            department_id=owner.department_id,
            name_pinyin=full,
            name_initials=initials,
            created_by=owner,
            created_at=created,
            updated_at=created,
        )
        new.append((customer, rng.sample(tags[:4], rng.randrange(0, 3))))
    for index, (name, district_code, industry, owner_name) in enumerate(ENTERPRISES):
        code = identity.make_uscc(f"91{district_code}MA0{index}XK8T"[:17].ljust(17, "1"))
        if code in existing_uscc:
            continue
        owner = users[owner_name]
        province = district_code[:2] + "0000"
        full, initials = identity.name_pinyin(name, person=False)
        created = now - timedelta(days=30 + index * 11)
        new.append(
            (
                Customer(
                    kind=Customer.Kind.ENTERPRISE,
                    name=name,
                    uscc=code,
                    legal_representative=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    industry=industry,
                    province_code=province,
                    province_name="北京市" if province == "110000" else "上海市",
                    city_code=province[:2] + "0100",
                    city_name="北京市" if province == "110000" else "上海市",
                    district_code=district_code,
                    address=f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
                    credit_level="B",
                    source_channel="partner",
                    owner=owner,
                    department_id=owner.department_id,
                    name_pinyin=full,
                    name_initials=initials,
                    created_by=owner,
                    created_at=created,
                    updated_at=created,
                ),
                [tags[4]],
            )
        )
    if not new:
        return 0
    customers = Customer.objects.bulk_create([c for c, _ in new])
    through = Customer.tags.through
    through.objects.bulk_create(
        [
            through(customer_id=c.pk, tag_id=t.pk)
            for c, (_, ts) in zip(customers, new, strict=True)
            for t in ts
        ]
    )
    events = [
        TimelineEvent(
            customer_id=c.pk,
            kind="created",
            summary_code="customers.timeline.created",
            actor=c.owner,
            ref_type="customers.customer",
            ref_id=str(c.pk),
            at=c.created_at,
        )
        for c in customers
    ]
    follow_ups: list[FollowUp] = []
    updates: list[Customer] = []
    for index, customer in enumerate(customers):
        if index % 3 == 2:
            continue
        count = 1 + index % 3
        for k in range(count):
            kind, text = FOLLOW_UP_TEXTS[(index + k) % len(FOLLOW_UP_TEXTS)]
            at = customer.created_at + timedelta(days=2 + k * 3, hours=k)
            last = k == count - 1
            next_at = now + timedelta(days=(index % 9) - 2, hours=10) if last else None
            follow_ups.append(
                FollowUp(
                    customer=customer,
                    author=customer.owner,
                    kind=kind,
                    content=text,
                    next_follow_up_at=next_at,
                    created_at=at,
                )
            )
            events.append(
                TimelineEvent(
                    customer_id=customer.pk,
                    kind="follow_up",
                    summary_code="customers.timeline.follow_up",
                    params={"kind": kind, "excerpt": text[:60]},
                    actor=customer.owner,
                    at=at,
                )
            )
            if last:
                customer.last_follow_up_at = at
                customer.next_follow_up_at = next_at
                customer.updated_at = at
                updates.append(customer)
    FollowUp.objects.bulk_create(follow_ups)
    TimelineEvent.objects.bulk_create(events)
    Customer.objects.bulk_update(updates, ["last_follow_up_at", "next_follow_up_at", "updated_at"])
    return len(customers)
