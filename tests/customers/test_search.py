"""Search and list filters: pinyin and initials by prefix, Chinese within the name, identifiers
exactly through their blind index; always inside the caller's data scope; newest first."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.customers import identity
from loandesk.customers.models import Customer, Tag
from tests.customers.conftest import create, new_card, new_id_number, new_phone


@pytest.fixture
def officer(client_for: Any) -> Any:
    return client_for("officer1")


def _ids(client: Any, **params: Any) -> list[int]:
    response = client.get("customers", {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["items"]]


def test_pinyin_initials_and_chinese(officer: Any) -> None:
    zhang = create(officer, name="张伟")["id"]
    zeng = create(officer, name="曾小贤")["id"]
    other = create(officer, name="李娜")["id"]
    for q in ("zhangwei", "ZhangWei", "zhang wei", "zhangw", "zw", "ZW", "张伟", "伟", "张"):
        ids = _ids(officer, q=q)
        assert zhang in ids and other not in ids, q
    assert zeng in _ids(officer, q="zeng") and zeng in _ids(officer, q="zxx")
    assert zeng not in _ids(officer, q="ceng")
    assert zeng in _ids(officer, q="zx")
    assert zhang not in _ids(officer, q="wz")  # initials match from the start only


def test_enterprise_by_latin_name_and_uscc(officer: Any) -> None:
    code = identity.make_uscc("91110105MA01XK8T5")
    company = create(officer, kind="enterprise", name="TCL科技有限公司", uscc=code, id_number=None)
    assert company["id"] in _ids(officer, q="tcl")
    assert company["id"] in _ids(officer, q="tclkeji")
    assert company["id"] in _ids(officer, q=code.lower())


def test_exact_identifier_search(officer: Any) -> None:
    id_number, phone, card = new_id_number(), new_phone(), new_card()
    target = create(officer, id_number=id_number, phone=phone, bank_cards=[{"number": card}])["id"]
    create(officer)
    assert _ids(officer, q=phone) == [target]
    assert _ids(officer, q=f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}") == [target]
    assert _ids(officer, q=id_number.lower()) == [target]
    assert _ids(officer, q=card) == [target]
    assert _ids(officer, q=phone[:7]) == []  # partial numbers are not searchable: blind index
    assert _ids(officer, q=phone[:3] + "****" + phone[-4:]) == []


def test_search_stays_in_scope(client_for: Any, demo: Any) -> None:
    theirs = Customer.objects.filter(owner=demo["users"]["officer2"], kind="individual").first()
    assert theirs is not None
    officer1 = client_for("officer1")
    assert _ids(officer1, q=theirs.phone) == []
    assert _ids(officer1, q=theirs.name) == [
        c.pk
        for c in Customer.objects.filter(
            owner=demo["users"]["officer1"], name=theirs.name
        ).order_by("-updated_at", "-id")
    ]
    assert _ids(client_for("gm"), q=theirs.phone) == [theirs.pk]


def test_filters(officer: Any, client_for: Any, demo: Any) -> None:
    tag = Tag.objects.create(name="筛选标签")
    a = create(officer, credit_level="A", tag_ids=[tag.pk])["id"]
    b = create(officer, credit_level="watch")["id"]
    assert _ids(officer, tag=tag.pk) == [a]
    assert b in _ids(officer, credit_level="watch") and a not in _ids(officer, credit_level="watch")
    company = create(
        officer,
        kind="enterprise",
        name="某某公司",
        uscc=identity.make_uscc("91110105MA01XK8T6"),
        id_number=None,
    )["id"]
    assert company in _ids(officer, kind="enterprise") and a not in _ids(officer, kind="enterprise")
    admin = client_for("admin")
    officer1 = demo["users"]["officer1"]
    assert set(_ids(admin, owner_id=officer1.pk)) == set(
        Customer.objects.filter(owner=officer1, status="active").values_list("pk", flat=True)
    )
    shanghai = demo["departments"]["上海分公司"]
    rows = admin.get("customers", {"department_id": shanghai.pk, "page_size": 100}).json()["items"]
    assert rows and {r["department"]["name"] for r in rows} == {"上海一组"}
    mine = _ids(admin, mine="true")
    assert all(Customer.objects.get(pk=i).owner.username == "admin" for i in mine)
    not_mine = _ids(admin, mine="false")
    assert a in not_mine
    assert admin.delete(f"customers/{a}").status_code == 204
    assert a not in _ids(admin) and a in _ids(admin, status="archived")
    assert admin.post(f"customers/{a}/restore").status_code == 200
    assert a in _ids(admin)
    bad = admin.get("customers", {"status": "gone"})
    assert bad.status_code == 422 and "status" in bad.json()["details"]["fields"]


def test_ordered_by_updated_desc_with_stable_tiebreak(officer: Any) -> None:
    ids = [create(officer)["id"] for _ in range(3)]
    same = timezone.now() + timedelta(days=1)
    Customer.objects.filter(pk__in=ids).update(updated_at=same)
    listed = _ids(officer)
    assert listed[:3] == sorted(ids, reverse=True)
    officer.patch(f"customers/{ids[0]}", {"remark": "最新"})
    Customer.objects.filter(pk=ids[0]).update(updated_at=same + timedelta(seconds=1))
    assert _ids(officer)[0] == ids[0]
    page1 = officer.get("customers", {"page_size": 2, "page": 1}).json()
    page2 = officer.get("customers", {"page_size": 2, "page": 2}).json()
    assert not {c["id"] for c in page1["items"]} & {c["id"] for c in page2["items"]}
    assert page1["count"] == page2["count"]


def test_list_item_shape(officer: Any) -> None:
    create(officer, name="形状测试", credit_level="B")
    item = officer.get("customers", {"q": "形状测试"}).json()["items"][0]
    assert set(item) == {
        "id", "kind", "name", "status", "phone", "id_number", "uscc", "gender", "age",
        "credit_level", "source_channel", "owner", "department", "tags", "last_follow_up_at",
        "next_follow_up_at", "created_at", "updated_at", "pii_masked",
    }  # fmt: skip
    assert item["owner"]["username"] == "officer1" and item["department"]["name"] == "北京一组"


def test_count_is_capped_for_broad_lists(officer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from loandesk.customers import selectors

    for _ in range(3):
        create(officer)
    total = Customer.objects.filter(owner__username="officer1", status="active").count()
    exact = officer.get("customers").json()
    assert exact["count"] == total and exact["count_capped"] is False
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    capped = officer.get("customers", {"page_size": 3, "page": 2}).json()
    assert capped["count"] == 5 and capped["count_capped"] is True
    assert len(capped["items"]) == 3  # pages beyond the cap still work


def test_small_matches_are_sorted_like_the_list_and_counted_exactly(
    officer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to COUNT_CAP matches are read unordered and sorted apart: the pages must be the
    ones ORDER BY updated_at DESC, id DESC gives, with an exact count; past the cap the list
    walks the index and the count says "over"."""
    from loandesk.customers import selectors

    made = [create(officer, name=f"排序{i}")["id"] for i in range(5)]
    # Same updated_at for two of them: the id breaks the tie, as in SQL.
    Customer.objects.filter(pk__in=made[:2]).update(updated_at=timezone.now())
    expected = list(
        Customer.objects.filter(pk__in=made)
        .order_by("-updated_at", "-id")
        .values_list("pk", flat=True)
    )
    pages = [
        officer.get("customers", {"q": "排序", "page_size": 2, "page": n}).json() for n in (1, 2, 3)
    ]
    assert [c["id"] for p in pages for c in p["items"]] == expected
    assert all(p["count"] == 5 and p["count_capped"] is False for p in pages)
    past = officer.get("customers", {"q": "排序", "page_size": 2, "page": 4}).json()
    assert past["items"] == [] and past["count"] == 5  # past the end: still counted

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    over = officer.get("customers", {"q": "排序", "page_size": 2}).json()
    assert over["count"] == 3 and over["count_capped"] is True
    assert [c["id"] for c in over["items"]] == expected[:2]


def test_broad_text_searches_are_not_counted(officer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from loandesk.customers import selectors

    ids = [create(officer, name=name)["id"] for name in ("宽泛甲", "宽泛乙", "宽泛丙")]
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 2)
    for q in ("宽", "宽泛"):
        page = officer.get("customers", {"q": q, "page_size": 2}).json()
        assert page["count"] is None and page["count_capped"] is True, q
        assert len(page["items"]) == 2
    rest = officer.get("customers", {"q": "宽", "page_size": 2, "page": 2}).json()
    seen = {c["id"] for c in rest["items"]} | {
        c["id"] for c in officer.get("customers", {"q": "宽", "page_size": 2}).json()["items"]
    }
    assert seen == set(ids)
    # A narrow one is still counted.
    assert officer.get("customers", {"q": "宽泛甲"}).json()["count"] == 1


def test_broad_and_narrow_text_conditions_agree(
    officer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few matches are resolved to ids first; many are left to the list query: same result."""
    from loandesk.customers import selectors

    ids = {create(officer, name=name)["id"] for name in ("张伟", "张伟明", "章维")}
    narrow = set(_ids(officer, q="zw")) & ids
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 0)
    broad = set(_ids(officer, q="zw")) & ids
    assert narrow == broad == ids
    assert set(_ids(officer, q="张伟")) & ids == {i for i in ids} - {max(ids)}


# The same data and the same expected hits on SQLite and on PostgreSQL (the suite runs on both):
# Chinese text anywhere in the name goes through the name-gram index on both engines.
NAMES = ["张伟", "张小伟", "王伟张", "欧阳娜娜", "TCL科技有限公司", "tcl华星", "李娜", "小明科技"]
SAME_ON_BOTH = {
    "张": {"张伟", "张小伟", "王伟张"},
    "伟": {"张伟", "张小伟", "王伟张"},
    "张伟": {"张伟"},
    "伟张": {"王伟张"},
    "小伟": {"张小伟"},
    "张小伟": {"张小伟"},
    "娜娜": {"欧阳娜娜"},
    "欧阳娜": {"欧阳娜娜"},
    "科技": {"TCL科技有限公司", "小明科技"},
    "L科": {"TCL科技有限公司"},
    "l科技": {"TCL科技有限公司"},
    "tcl华": {"tcl华星"},
    "有限公司": {"TCL科技有限公司"},
    "张伟张": set(),
    "明科技有": set(),
}


def test_chinese_text_hits_are_the_same_on_both_engines(client_for: Any) -> None:
    admin = client_for("admin")
    created = {name: create(admin, name=name)["id"] for name in NAMES}
    by_id = {v: k for k, v in created.items()}
    for q, expected in SAME_ON_BOTH.items():
        found = {by_id[i] for i in _ids(admin, q=q) if i in by_id}
        assert found == expected, q


def test_name_grams_follow_every_write(officer: Any) -> None:
    from loandesk.customers.models import CustomerNameGram

    customer_id = create(officer, name="张伟")["id"]

    def grams() -> set[str]:
        return set(
            CustomerNameGram.objects.filter(customer_id=customer_id).values_list("gram", flat=True)
        )

    assert grams() == {"张", "伟", "张伟"}
    assert officer.patch(f"customers/{customer_id}", {"name": "李Na"}).status_code == 200
    assert grams() == {"李", "n", "a", "李n", "na"}
    assert customer_id in _ids(officer, q="李N") and customer_id not in _ids(officer, q="张")
    Customer.objects.filter(pk=customer_id).update(remark="x")  # other columns: no change
    assert grams() == {"李", "n", "a", "李n", "na"}


def test_name_grams_cover_names_of_every_length(demo: Any) -> None:
    """The SQLite trigger picks its positions by the name's length (migration customers
    0006): across each boundary every one- and two-character piece is still there."""
    from loandesk.customers.models import CustomerNameGram

    owner = User.objects.get(username="officer1")
    base = "北京恒信华宇鑫源瑞丰金通新元盛达宏远中科天和顺通锦程Ab"
    for length in (1, 2, 4, 5, 12, 13, 30):
        name = base[-length:]
        customer = Customer.objects.create(name=name, owner=owner, created_by=owner)
        folded = name.lower()
        expected = {folded[i : i + w] for w in (1, 2) for i in range(len(folded) - w + 1)}
        got = set(CustomerNameGram.objects.filter(customer=customer).values_list("gram", flat=True))
        assert got == expected, length


def test_walk_forms_select_the_same_customers_in_the_same_order(demo: Any) -> None:
    """On SQLite a broad list's page is read through the filter's walk form (EXISTS probes,
    `+column`): for every role's scope and filter combination it is the same rows, in the same
    order, as the indexed form. PostgreSQL has no walk form (its planner picks the walk)."""
    from django.db import connection

    from loandesk.accounts.models import Department, User
    from loandesk.customers import selectors

    tag = Tag.objects.order_by("pk").first()
    department = Department.objects.exclude(parent=None).order_by("pk").first()
    assert tag is not None and department is not None
    filters: list[dict[str, Any]] = [
        {},
        {"q": "张"},
        {"q": "z"},
        {"q": "zw"},
        {"q": "zhang"},
        {"q": "伟"},
        {"q": "科技"},
        {"q": "张伟明"},
        {"tag": tag.pk},
        {"credit_level": "A"},
        {"credit_level": "none"},
        {"q": "w", "credit_level": "B", "kind": "individual"},
        {"mine": True},
        {"mine": False, "q": "l"},
        {"department_id": department.pk},
        {"department_id": department.pk, "tag": tag.pk, "q": "z"},
        {"status": "all", "q": "w"},
    ]
    checked = 0
    for username in ("admin", "gm", "manager", "officer1", "risk"):
        actor = User.objects.get(username=username)
        for params in filters:
            found = selectors.search(actor=actor, **params)
            if connection.vendor != "sqlite":
                assert found.walk is None
                continue
            assert found.walk is not None
            expected = list(found.queryset.values_list("pk", flat=True))
            assert list(found.walk.values_list("pk", flat=True)) == expected, (username, params)
            checked += bool(expected)
    if connection.vendor == "sqlite":
        assert checked > 40  # the demo data gives most combinations some rows


def test_a_broad_list_page_is_the_newest_matches(
    officer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every list treated as broad (so SQLite reads pages through the walk form), the
    pages are the same as when the matches are read and sorted in memory."""
    from loandesk.customers import selectors

    for name in ("张伟", "张伟明", "章维", "周文", "赵武"):
        create(officer, name=name)
    queries: list[dict[str, Any]] = [{"q": "zw"}, {"q": "张"}, {"q": "z"}, {"mine": "true"}]
    sorted_in_memory = [_ids(officer, **params) for params in queries]
    monkeypatch.setattr(selectors, "COUNT_CAP", 0)
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 0)
    walked = [_ids(officer, **params) for params in queries]
    assert walked == sorted_in_memory
    assert all(sorted_in_memory)


@pytest.mark.postgres(reason="parallel query workers are PostgreSQL's")
def test_a_broad_page_is_walked_without_parallel_workers(
    officer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broad list's page (ORDER BY … LIMIT, walked from the index) is read by one process:
    with workers each walks its own share, ~3x the rows (docs/performance.md, "Load test")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from loandesk.customers import selectors

    for name in ("宽泛甲", "宽泛乙", "宽泛丙"):
        create(officer, name=name)
    monkeypatch.setattr(selectors, "NARROW_MATCHES", 2)
    with CaptureQueriesContext(connection) as ctx:
        page = officer.get("customers", {"q": "宽", "page_size": 2}).json()
    assert page["count"] is None and len(page["items"]) == 2  # the broad path
    sql = [q["sql"] for q in ctx.captured_queries]
    off = next(
        i for i, s in enumerate(sql) if "set_config('max_parallel_workers_per_gather', '0'" in s
    )
    back = next(i for i, s in enumerate(sql) if i > off and "set_config(" in s)
    walked = [s for s in sql[off + 1 : back] if 'FROM "customers_customer"' in s and "LIMIT 2" in s]
    assert walked, sql[off:back]


def test_a_search_that_matches_nobody_is_an_empty_page(officer: Any) -> None:
    """A number nobody has, a text no name holds, a department that does not exist: each an
    empty page counted 0 (the id list or the query is empty before any SQL runs)."""
    for params in ({"q": new_phone()}, {"q": "查无此名"}, {"department_id": 987654}):
        page = officer.get("customers", params).json()
        assert page["items"] == [] and page["count"] == 0, params
        assert page["count_capped"] is False, params


def test_a_text_with_exactly_narrow_matches_is_narrow(
    officer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NARROW_MATCHES matches are resolved and counted exactly; one more is broad (not
    counted)."""
    from loandesk.customers import selectors

    monkeypatch.setattr(selectors, "NARROW_MATCHES", 3)
    for name in ("界限甲", "界限乙", "界限丙"):
        create(officer, name=name)
    page = officer.get("customers", {"q": "界限"}).json()
    assert page["count"] == 3 and len(page["items"]) == 3
    create(officer, name="界限丁")
    page = officer.get("customers", {"q": "界限"}).json()
    assert page["count"] is None and len(page["items"]) == 4
