"""Identity and profile validation through the API: every bad value is a 422 naming the field
(details.fields) with a stable code (details.codes); nothing is written."""

from datetime import date, timedelta
from typing import Any

import pytest

from loandesk.core.errors import ValidationFailed
from loandesk.customers import identity, services
from loandesk.customers.models import Customer
from tests.customers.conftest import create, customer_body, new_card, new_id_number, new_phone

VALID_ID = identity.make_id_number("110105", date(1990, 5, 17), 123)


def _bad_checksum(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


@pytest.fixture
def officer(client_for: Any) -> Any:
    return client_for("officer1")


def _fields(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return response.json()["details"]["fields"]


def _codes(response: Any) -> dict[str, str]:
    return response.json()["details"]["codes"]


# --- resident ID number ---------------------------------------------------------------------


def test_valid_id_number_derives_gender_and_birth_date(officer: Any) -> None:
    spaced = f"{VALID_ID[:6]} {VALID_ID[6:14]} {VALID_ID[14:]}".lower()
    body = create(officer, id_number=spaced, phone=None)
    assert body["gender"] == "male"  # 17th digit 3 is odd
    assert body["birth_date"] == "1990-05-17"
    customer = Customer.objects.get(pk=body["id"])
    assert customer.id_number == VALID_ID
    assert customer.gender == "male" and customer.birth_date == date(1990, 5, 17)


def test_x_check_digit_is_accepted_in_either_case(officer: Any) -> None:
    number = next(
        n
        for n in (identity.make_id_number("310115", date(1985, 3, 9), s) for s in range(1000))
        if n.endswith("X")
    )
    body = create(officer, id_number=number.lower(), phone=None)
    assert Customer.objects.get(pk=body["id"]).id_number == number
    assert body["gender"] in ("male", "female")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (_bad_checksum(VALID_ID), "customers.id_number_checksum"),
        ("11010519900230123X", "customers.id_number_birth_date"),  # 30 February
        (VALID_ID[:17], "customers.id_number_invalid"),
        ("110105900517123", "customers.id_number_invalid"),  # 15-digit, expired generation
        ("ABCDEFGHIJKLMNOPQR", "customers.id_number_invalid"),
        ("990105199005171230", "customers.id_number_invalid"),  # no province 99
    ],
)
def test_invalid_id_numbers_are_refused_naming_the_field(
    officer: Any, value: str, code: str
) -> None:
    before = Customer.objects.count()
    response = officer.post("customers", customer_body(id_number=value))
    assert "id_number" in _fields(response)
    assert _codes(response)["id_number"] == code
    assert Customer.objects.count() == before


def test_birth_date_in_the_future_is_refused(officer: Any) -> None:
    future = identity.make_id_number("110105", date.today() + timedelta(days=30), 1)
    response = officer.post("customers", customer_body(id_number=future))
    assert _codes(response)["id_number"] == "customers.id_number_birth_date"


def test_id_number_message_follows_the_language(client_for: Any) -> None:
    client = client_for("officer1")
    client.language = "en-US"
    response = client.post("customers", customer_body(id_number=_bad_checksum(VALID_ID)))
    assert "check digit" in _fields(response)["id_number"]


# --- mobile phone ---------------------------------------------------------------------------


def test_phone_is_normalised_to_11_digits(officer: Any) -> None:
    body = create(officer, phone="+86 138-0013-8000", id_number=None)
    assert Customer.objects.get(pk=body["id"]).phone == "13800138000"
    assert body["phone"] == "138****8000"


@pytest.mark.parametrize(
    "value", ["12345678901", "1380013800", "010-12345678", "phone", "+1 650 253 0000"]
)
def test_invalid_phones_are_refused(officer: Any, value: str) -> None:
    response = officer.post("customers", customer_body(phone=value))
    assert _codes(response)["phone"] == "customers.phone_invalid"


def test_individual_needs_a_phone_or_an_id_number(officer: Any) -> None:
    response = officer.post("customers", {"name": "无联系方式"})
    assert _codes(response)["phone"] == "customers.contact_required"


# --- bank cards -----------------------------------------------------------------------------


def test_bank_cards_pass_luhn(officer: Any) -> None:
    card = new_card()
    body = create(
        officer, bank_cards=[{"number": f"{card[:4]} {card[4:]}", "bank_name": "工商银行"}]
    )
    assert len(body["bank_cards"]) == 1
    assert body["bank_cards"][0]["number"] == "**** **** **** " + card[-4:]
    assert body["bank_cards"][0]["bank_name"] == "工商银行"


@pytest.mark.parametrize(
    "value", ["6222020000000000001", "1234", "62220200000000000000", "6222abc"]
)
def test_invalid_bank_cards_name_the_list_item(officer: Any, value: str) -> None:
    good = new_card()
    response = officer.post(
        "customers", customer_body(bank_cards=[{"number": good}, {"number": value}])
    )
    assert _codes(response)["bank_cards.1.number"] == "customers.bank_card_invalid"


def test_add_bank_card_endpoint_validates(officer: Any) -> None:
    customer = create(officer)
    bad = officer.post(f"customers/{customer['id']}/bank-cards", {"number": "6222020000000000001"})
    assert _codes(bad)["number"] == "customers.bank_card_invalid"
    card = new_card()
    ok = officer.post(f"customers/{customer['id']}/bank-cards", {"number": card})
    assert ok.status_code == 201 and ok.json()["number"].endswith(card[-4:])
    again = officer.post(f"customers/{customer['id']}/bank-cards", {"number": card})
    assert again.status_code == 409 and again.json()["code"] == "customers.bank_card_exists"


# --- enterprises ----------------------------------------------------------------------------


def test_enterprise_with_valid_uscc(officer: Any) -> None:
    code = identity.make_uscc("91110105MA01XK8T1")
    body = create(
        officer,
        kind="enterprise",
        name="北京某某科技有限公司",
        uscc=code.lower(),
        legal_representative="王五",
        industry="软件",
        id_number=None,
    )
    assert body["uscc"] == code and body["kind"] == "enterprise"


def test_enterprise_rules(officer: Any) -> None:
    code = identity.make_uscc("91110105MA01XK8T2")
    bad = officer.post(
        "customers", {"kind": "enterprise", "name": "某公司", "uscc": code[:-1] + "0"}
    )
    assert _codes(bad)["uscc"] in ("customers.uscc_invalid",)
    missing = officer.post("customers", {"kind": "enterprise", "name": "某公司"})
    assert _codes(missing)["uscc"] == "customers.uscc_required"
    with_id = officer.post(
        "customers", {"kind": "enterprise", "name": "某公司", "uscc": code, "id_number": VALID_ID}
    )
    assert _codes(with_id)["id_number"] == "customers.not_for_kind"
    person_with_uscc = officer.post("customers", customer_body(uscc=code))
    assert _codes(person_with_uscc)["uscc"] == "customers.not_for_kind"


def test_enterprise_may_share_a_mobile_with_a_person(officer: Any) -> None:
    phone = new_phone()
    create(officer, phone=phone)
    body = create(
        officer,
        kind="enterprise",
        name="法人同号公司",
        uscc=identity.make_uscc("91110105MA01XK8T3"),
        phone=phone,
        id_number=None,
    )
    assert body["phone"].endswith(phone[-4:])


# --- profile fields -------------------------------------------------------------------------


def test_region_codes_nest_and_fill_names(officer: Any) -> None:
    body = create(officer, province_code="110000", city_code="110100", district_code="110105")
    assert (body["province_name"], body["city_name"], body["district_name"]) == (
        "北京市",
        "北京市",
        "朝阳区",
    )
    bad = officer.post(
        "customers",
        customer_body(province_code="110000", city_code="310100", district_code="310115"),
    )
    assert _codes(bad)["city_code"] == "customers.region_invalid"
    malformed = officer.post("customers", customer_body(province_code="11"))
    assert _codes(malformed)["province_code"] == "customers.region_invalid"


def test_monthly_income_is_exact_money(officer: Any) -> None:
    body = create(officer, monthly_income="12,000.50")
    assert body["monthly_income"] == "12000.50"
    assert Customer.objects.get(pk=body["id"]).monthly_income == 1200050
    assert create(officer, monthly_income=8000)["monthly_income"] == "8000.00"
    for value, code in [
        (8000.5, "customers.income_float"),
        ("-1", "customers.income_invalid"),
        ("1.234", "customers.income_invalid"),
        ("abc", "customers.income_invalid"),
    ]:
        response = officer.post("customers", customer_body(monthly_income=value))
        assert _codes(response)["monthly_income"] == code, value


def test_choices_and_unknown_keys(officer: Any) -> None:
    response = officer.post("customers", customer_body(credit_level="AAA", education="phd"))
    fields = _fields(response)
    assert {"credit_level", "education"} <= set(fields)
    typo = officer.post("customers", customer_body(nmae="张三"))
    assert "nmae" in _fields(typo)
    wrong_kind = officer.post("customers", customer_body(kind="robot"))
    assert "kind" in _fields(wrong_kind)


def test_name_is_required_and_cleaned(officer: Any) -> None:
    assert "name" in _fields(officer.post("customers", customer_body(name="   ")))
    body = create(officer, name="  李　 四  ")
    assert body["name"] == "李 四"


def test_unknown_tag_and_owner_are_field_errors(officer: Any, demo: Any) -> None:
    response = officer.post("customers", customer_body(tag_ids=[999999]))
    assert _codes(response)["tag_ids"] == "customers.tag_invalid"
    other = demo["users"]["officer2"].pk
    response = officer.post("customers", customer_body(owner_id=other))
    assert _codes(response)["owner_id"] == "customers.owner_invalid"


@pytest.fixture
def no_profile_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """As before the form engine publishes a 客户档案 form: custom is any small object."""
    monkeypatch.setattr(services, "form_validator", lambda: None)


def test_custom_without_a_profile_form_is_a_bounded_object(
    officer: Any, no_profile_form: None
) -> None:
    body = create(officer, custom={"wechat": "zw_1990", "house": True})
    assert body["custom"] == {"wechat": "zw_1990", "house": True}
    too_many = officer.post("customers", customer_body(custom={f"k{i}": i for i in range(101)}))
    assert _codes(too_many)["custom"] == "customers.custom_invalid"
    not_object = officer.post("customers", customer_body(custom=[1, 2]))
    assert "custom" in _fields(not_object)


def test_custom_goes_through_the_form_engine(officer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def validate(*, form_code: str, data: dict[str, Any], actor: Any, partial: bool) -> Any:
        calls.append({"form_code": form_code, "partial": partial, "actor": actor.username})
        if "work_years" in data and int(data["work_years"]) > 60:
            raise ValidationFailed({"work_years": "不能大于 60"})
        return {k: (int(v) if k == "work_years" else v) for k, v in data.items()}

    monkeypatch.setattr(services, "form_validator", lambda: validate)
    body = create(officer, custom={"work_years": "5"})
    assert body["custom"] == {"work_years": 5}
    bad = officer.post("customers", customer_body(custom={"work_years": 99}))
    assert _fields(bad) == {"custom.work_years": "不能大于 60"}
    officer.patch(f"customers/{body['id']}", {"custom": {"housing": "own"}})
    assert officer.get(f"customers/{body['id']}").json()["custom"] == {
        "work_years": 5,
        "housing": "own",
    }
    assert calls[0] == {"form_code": "customer_profile", "partial": False, "actor": "officer1"}
    assert calls[-1]["partial"] is True


def test_custom_with_the_published_demo_profile_form(officer: Any) -> None:
    assert services.form_validator() is not None, "the form engine provides validate_form_data"
    from loandesk.forms.models import FormDefinition

    assert FormDefinition.objects.filter(code="customer_profile").exists()
    body = create(officer, custom={"work_years": 5})
    assert body["custom"].get("work_years") in (5, "5", 5.0)
    bad = officer.post("customers", customer_body(custom={"work_years": 99}))
    assert "custom.work_years" in _fields(bad)


def test_patch_validates_and_keeps_required_identity(officer: Any, no_profile_form: None) -> None:
    body = create(officer, id_number=None)
    path = f"customers/{body['id']}"
    assert _codes(officer.patch(path, {"phone": "123"}))["phone"] == "customers.phone_invalid"
    assert _codes(officer.patch(path, {"phone": None}))["phone"] == "customers.contact_required"
    assert "name" in _fields(officer.patch(path, {"name": ""}))
    ok = officer.patch(path, {"id_number": new_id_number(), "phone": None})
    assert ok.status_code == 200 and ok.json()["phone"] == ""
    merged_custom = officer.patch(path, {"custom": {"a": 1}})
    officer.patch(path, {"custom": {"b": 2}})
    assert officer.get(path).json()["custom"] == {"a": 1, "b": 2}
    officer.patch(path, {"custom": {"a": None}})
    assert officer.get(path).json()["custom"] == {"b": 2}
    assert merged_custom.status_code == 200


# --- pure functions -------------------------------------------------------------------------


def test_identity_helpers() -> None:
    assert identity.clean_id_number(VALID_ID).gender == "male"
    with pytest.raises(identity.IdentityError):
        identity.clean_id_number(_bad_checksum(VALID_ID))
    card = new_card()
    assert identity.clean_bank_card(f"{card[:4]}-{card[4:]}") == card
    assert identity.name_pinyin("张伟") == ("zhangwei", "zw")
    assert identity.name_pinyin("曾小贤") == ("zengxiaoxian", "zxx")
    assert identity.name_pinyin("单田芳")[0] == "shantianfang"
    assert identity.name_pinyin("TCL科技", person=False) == ("tclkeji", "tkj")
