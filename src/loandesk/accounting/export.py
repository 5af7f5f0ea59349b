"""Voucher export for a period as .xlsx, in the layouts the Kingdee (金蝶) and Yonyou (用友)
voucher import tools read: one row per journal line, the voucher's header repeated on each
line, amounts as numbers with two decimals. Every text cell is neutralised against formula
injection. The column sources are documented in docs/api-accounting.md.
"""

import tempfile
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

from loandesk.accounting.models import JournalEntry, JournalLine
from loandesk.accounting.permissions import EXPORT
from loandesk.accounting.selectors import clean_period, period_entries
from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.core.money import fen_to_yuan
from loandesk.customers.export import neutralise

Row = Callable[[JournalEntry, JournalLine, str], list[Any]]

# Kingdee K/3 / KIS "标准格式凭证" (FDATE, FPERIOD, FGROUP, FNUM, FENTRYID, FEXP, FACCTID,
# FCLSNAME1/FOBJID1/FOBJNAME1, FTRANSID, FCYID, FEXCHRATE, FDC, FFCYAMT, FDEBIT, FCREDIT,
# FPREPARE) with the Chinese headings of the KIS / 精斗云 Excel template.
KINGDEE_COLUMNS = [
    "凭证日期",
    "会计年度",
    "会计期间",
    "凭证字",
    "凭证号",
    "分录号",
    "摘要",
    "科目代码",
    "科目名称",
    "币别",
    "汇率",
    "借贷方向",
    "原币金额",
    "借方金额",
    "贷方金额",
    "核算项目类别",
    "核算项目代码",
    "核算项目名称",
    "业务编号",
    "制单人",
]

# Yonyou U8 总账工具「凭证引入」: 制单日期, 凭证类别字, 凭证号, 附单据数, 摘要, 科目编码,
# 借方金额, 贷方金额 are required; then the optional auxiliary columns (客户编码 …).
YONYOU_COLUMNS = [
    "制单日期",
    "凭证类别字",
    "凭证号",
    "附单据数",
    "摘要",
    "科目编码",
    "科目名称",
    "借方金额",
    "贷方金额",
    "数量",
    "外币金额",
    "汇率",
    "部门编码",
    "个人编码",
    "客户编码",
    "供应商编码",
    "项目编码",
    "业务员",
    "制单人",
]
PREPARER = "LoanDesk"


def _yuan(fen: int) -> Decimal:
    return fen_to_yuan(fen)


def _customer_code(entry: JournalEntry) -> str:
    return f"C{entry.customer_id:06d}" if entry.customer_id else ""


def kingdee_row(entry: JournalEntry, line: JournalLine, _period: str) -> list[Any]:
    debit = line.debit_fen > 0
    amount = line.debit_fen or line.credit_fen
    return [
        entry.date.isoformat(),
        entry.date.year,
        entry.date.month,
        entry.voucher_word,
        entry.voucher_no,
        line.line_no - 1,  # Kingdee numbers entries from 0
        entry.description,
        line.account.code,
        line.account.name,
        "RMB",
        1,
        1 if debit else 0,
        _yuan(amount),
        _yuan(line.debit_fen),
        _yuan(line.credit_fen),
        "客户" if entry.customer_id else "",
        _customer_code(entry),
        entry.customer.name if entry.customer else "",
        entry.contract_no,
        PREPARER,
    ]


def yonyou_row(entry: JournalEntry, line: JournalLine, _period: str) -> list[Any]:
    return [
        entry.date.isoformat(),
        entry.voucher_word,
        entry.voucher_no,
        0,
        entry.description,
        line.account.code,
        line.account.name,
        _yuan(line.debit_fen),
        _yuan(line.credit_fen),
        None,
        None,
        None,
        None,
        None,
        _customer_code(entry),
        None,
        entry.contract_no,
        None,
        PREPARER,
    ]


LAYOUTS: dict[str, tuple[list[str], Row]] = {
    "kingdee": (KINGDEE_COLUMNS, kingdee_row),
    "yonyou": (YONYOU_COLUMNS, yonyou_row),
}


def export_vouchers(*, actor: User, period: str, layout: str) -> tuple[IO[bytes], str]:
    """The period's vouchers as an .xlsx file (temporary, rewound) and its download name."""
    require_perm(actor, EXPORT)
    period = clean_period(period)
    if layout not in LAYOUTS:
        raise ValidationFailed.field("layout", "accounting.layout_invalid")
    columns, row = LAYOUTS[layout]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("凭证")
    ws.append(columns)
    count = 0
    for entry in period_entries(period):
        for line in entry.lines.all():
            ws.append([neutralise(v) for v in row(entry, line, period)])
            count += 1
    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    wb.save(fh)
    fh.seek(0)
    audit.record(
        action="accounting.vouchers_exported",
        actor=actor,
        target_type="accounting.period",
        target_id=period,
        extra={"layout": layout, "lines": count},
    )
    return fh, f"vouchers-{layout}-{period}.xlsx"
