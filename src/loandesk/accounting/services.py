"""Accounting writes: the chart of accounts and the posting map (admins, accounting.manage)."""

import re
from typing import Any

from django.db import transaction
from django.db.models import Q

from loandesk.accounting.ledger import COMPONENTS
from loandesk.accounting.models import Account, PostingRule
from loandesk.accounting.permissions import MANAGE
from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import Conflict, NotFound, ValidationFailed
from loandesk.core.i18n import message

_CODE = re.compile(r"^\d{4,20}$")


def _clean_name(value: Any, name: str, max_len: int, *, required: bool) -> str:
    text = str(value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationFailed({name: message("field.type", {"expected": "string"})})
    if required and not text:
        raise ValidationFailed({name: message("field.required")})
    if len(text) > max_len:
        raise ValidationFailed({name: message("field.too_long", {"max": max_len})})
    return text


def _parent(code: str, parent_code: str | None, type_: str) -> Account | None:
    if not parent_code:
        return None
    parent = Account.objects.filter(code=parent_code).first()
    if parent is None or not code.startswith(parent.code) or code == parent.code:
        raise ValidationFailed.field("parent_code", "accounting.parent_invalid")
    if parent.type != type_:
        raise ValidationFailed.field("type", "accounting.type_mismatch")
    return parent


@transaction.atomic
def create_account(
    *,
    actor: User,
    code: str,
    name: str,
    type: str,
    name_en: str = "",
    parent_code: str | None = None,
) -> Account:
    require_perm(actor, MANAGE)
    code = (code or "").strip()
    if not _CODE.match(code):
        raise ValidationFailed.field("code", "accounting.code_invalid")
    if type not in Account.Type.values:
        raise ValidationFailed.field("type", "field.choice")
    name = _clean_name(name, "name", 60, required=True)
    name_en = _clean_name(name_en, "name_en", 100, required=False)
    if Account.objects.filter(code=code).exists():
        raise Conflict("accounting.code_taken", details={"code": code})
    parent = _parent(code, parent_code, type)
    account = Account.objects.create(
        code=code, name=name, name_en=name_en, type=type, parent=parent
    )
    audit.record(
        action="accounting.account_created",
        actor=actor,
        target=account,
        changes={"code": [None, code], "name": [None, name], "type": [None, type]},
    )
    return account


@transaction.atomic
def update_account(*, actor: User, account_id: int, changes: dict[str, Any]) -> Account:
    """Rename, translate or (de)activate an account. Codes and types never change: entries
    already exported to the finance system refer to them."""
    require_perm(actor, MANAGE)
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFound()
    before = audit.snapshot(account, ["name", "name_en", "active"])
    if "name" in changes and changes["name"] is not None:
        account.name = _clean_name(changes["name"], "name", 60, required=True)
    if "name_en" in changes and changes["name_en"] is not None:
        account.name_en = _clean_name(changes["name_en"], "name_en", 100, required=False)
    if "active" in changes and changes["active"] is not None:
        active = changes["active"]
        if not isinstance(active, bool):
            raise ValidationFailed({"active": message("field.type", {"expected": "boolean"})})
        if (
            not active
            and PostingRule.objects.filter(
                Q(debit_account=account) | Q(credit_account=account)
            ).exists()
        ):
            raise Conflict("accounting.account_in_use", details={"code": account.code})
        account.active = active
    account.save()
    audit.record_change(
        actor=actor,
        instance=account,
        before=before,
        after=audit.snapshot(account, ["name", "name_en", "active"]),
    )
    return account


def _active_account(code: Any, field_name: str) -> Account:
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed({field_name: message("field.required")})
    account = Account.objects.filter(code=code.strip()).first()
    if account is None:
        raise ValidationFailed({field_name: message("not_found")})
    if not account.active:
        raise ValidationFailed.field(field_name, "accounting.account_inactive")
    return account


@transaction.atomic
def set_posting_rule(
    *, actor: User, component: str, debit_code: str, credit_code: str
) -> PostingRule:
    require_perm(actor, MANAGE)
    if component not in COMPONENTS:
        raise NotFound("accounting.unknown_component")
    debit = _active_account(debit_code, "debit_code")
    credit = _active_account(credit_code, "credit_code")
    if debit.pk == credit.pk:
        raise ValidationFailed.field("credit_code", "accounting.same_account")
    rule = PostingRule.objects.select_for_update().filter(component=component).first()
    old: list[str | None] = [None, None]
    if rule is not None:
        old = [rule.debit_account.code, rule.credit_account.code]
    if rule is None:
        rule = PostingRule(component=component)
    rule.debit_account = debit
    rule.credit_account = credit
    rule.updated_by = actor
    rule.save()
    audit.record(
        action="accounting.posting_rule_changed",
        actor=actor,
        target=rule,
        changes={"debit": [old[0], debit.code], "credit": [old[1], credit.code]},
    )
    return rule
