"""Daily facts for applications and decided approvals (ADR 0012, 2026-12 addendum).

New reports_dailyfact sources, written by triggers in the same transaction as the write:
- "applied" / "applied_m": application-form records (forms_record whose form's kind is
  'application') by the local date / month of created_at, keyed by the record's department
  and owner;
- "decided" / "decided_m": flow instances approved or rejected (finished_at set) by the local
  date / month of finished_at, keyed by the instance's department and initiator; `ok` counts
  the approved ones.

The dashboards' funnel (12 months of applications and approvals) and approval KPIs then read a
few thousand fact rows instead of every record and instance in the viewer's scope.
"""

from django.db import migrations

FACT_TIME_ZONE = "Asia/Shanghai"
SQLITE_OFFSET = "+8 hours"

_COLS = "source, day, department_id, owner_id, product_id, channel, region, n, amount_fen, ok"
_KEY = "source, day, department_id, owner_id, product_id, channel, region"
_APPLICATION = "'application'"
_DECIDED = "status IN ('approved', 'rejected') AND finished_at IS NOT NULL"


def _grouped(select: str) -> str:
    """INSERT the rows of `select` (in _COLS order) summed per key, dropping zero sums."""
    return f"""
        INSERT INTO reports_dailyfact ({_COLS})
        SELECT {_KEY}, SUM(n), SUM(amount_fen), SUM(ok)
        FROM ({select}) AS d ({_COLS})
        GROUP BY {_KEY}
        HAVING SUM(n) <> 0 OR SUM(amount_fen) <> 0 OR SUM(ok) <> 0;"""


def _pg_days(column: str) -> list[tuple[str, str]]:
    """(suffix, expression): the local date of `column` and its month's first day."""
    day = f"({column} AT TIME ZONE '{FACT_TIME_ZONE}')::date"
    return [("", day), ("_m", f"date_trunc('month', {day})::date")]


def _pg_applied(rows: str, sign: str) -> str:
    """Application records of `rows` (aliased r), signed."""
    return " UNION ALL ".join(
        f"SELECT 'applied{suffix}', {when}, r.department_id, r.owner_id, NULL::bigint, '', '',"
        f" {sign}1, 0::bigint, 0 FROM {rows} r"
        f" JOIN forms_formdefinition f ON f.id = r.form_id WHERE f.kind = {_APPLICATION}"
        for suffix, when in _pg_days("r.created_at")
    )


def _pg_decided(rows: str, sign: str) -> str:
    return " UNION ALL ".join(
        f"SELECT 'decided{suffix}', {when}, department_id, initiator_id, NULL::bigint, '', '',"
        f" {sign}1, 0::bigint, {sign}(CASE WHEN status = 'approved' THEN 1 ELSE 0 END)"
        f" FROM {rows} AS x WHERE {_DECIDED}"
        for suffix, when in _pg_days("finished_at")
    )


def _pg_form_records(sign_expr: str) -> str:
    """Every record of the form NEW, counted with sign_expr (its kind changed)."""
    return " UNION ALL ".join(
        f"SELECT 'applied{suffix}', {when}, department_id, owner_id, NULL::bigint, '', '',"
        f" {sign_expr}, 0::bigint, 0 FROM forms_record WHERE form_id = NEW.id"
        for suffix, when in _pg_days("created_at")
    )


_RECORD_CHANGED = (
    "(OLD.created_at, OLD.department_id, OLD.owner_id, OLD.form_id)"
    " IS DISTINCT FROM (NEW.created_at, NEW.department_id, NEW.owner_id, NEW.form_id)"
)
# Only decided instances count: a change between running, returned, error, withdrawn and
# cancelled calls nothing (a bulk cancel would otherwise run the function once per row).
_EITHER_DECIDED = (
    "((OLD.status IN ('approved', 'rejected') AND OLD.finished_at IS NOT NULL)"
    " OR (NEW.status IN ('approved', 'rejected') AND NEW.finished_at IS NOT NULL))"
)
_INSTANCE_CHANGED = (
    "(OLD.status, OLD.finished_at, OLD.department_id, OLD.initiator_id)"
    " IS DISTINCT FROM (NEW.status, NEW.finished_at, NEW.department_id, NEW.initiator_id)"
    f" AND {_EITHER_DECIDED}"
)
_KIND_CHANGED = f"(OLD.kind = {_APPLICATION}) IS DISTINCT FROM (NEW.kind = {_APPLICATION})"


def _pg_function(name: str, insert: str, delete: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_grouped(insert)}
    ELSE
        {_grouped(delete)}
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _pg_row_function(name: str, select: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    {_grouped(select)}
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _pg_statement_trigger(name: str, table: str, op: str, function: str) -> str:
    alias = "NEW TABLE AS new_rows" if op == "INSERT" else "OLD TABLE AS old_rows"
    return f"""
CREATE TRIGGER {name} AFTER {op} ON {table}
REFERENCING {alias}
FOR EACH STATEMENT EXECUTE FUNCTION {function}()
"""


def _pg_row_trigger(name: str, table: str, when: str, function: str) -> str:
    return f"""
CREATE TRIGGER {name} AFTER UPDATE ON {table}
FOR EACH ROW WHEN ({when})
EXECUTE FUNCTION {function}()
"""


PG_FORWARD = [
    _pg_function(
        "reports_daily_fact_record", _pg_applied("new_rows", ""), _pg_applied("old_rows", "-")
    ),
    _pg_row_function(
        "reports_daily_fact_record_row",
        _pg_applied("(SELECT OLD.*)", "-") + " UNION ALL " + _pg_applied("(SELECT NEW.*)", ""),
    ),
    _pg_row_function(
        "reports_daily_fact_form_row",
        _pg_form_records(f"(CASE WHEN NEW.kind = {_APPLICATION} THEN 1 ELSE -1 END)"),
    ),
    _pg_function(
        "reports_daily_fact_instance", _pg_decided("new_rows", ""), _pg_decided("old_rows", "-")
    ),
    _pg_row_function(
        "reports_daily_fact_instance_row",
        _pg_decided("(SELECT OLD.*)", "-") + " UNION ALL " + _pg_decided("(SELECT NEW.*)", ""),
    ),
    _pg_statement_trigger(
        "reports_daily_fact_record_insert", "forms_record", "INSERT", "reports_daily_fact_record"
    ),
    _pg_statement_trigger(
        "reports_daily_fact_record_delete", "forms_record", "DELETE", "reports_daily_fact_record"
    ),
    _pg_row_trigger(
        "reports_daily_fact_record_update",
        "forms_record",
        _RECORD_CHANGED,
        "reports_daily_fact_record_row",
    ),
    _pg_row_trigger(
        "reports_daily_fact_form_update",
        "forms_formdefinition",
        _KIND_CHANGED,
        "reports_daily_fact_form_row",
    ),
    _pg_statement_trigger(
        "reports_daily_fact_instance_insert",
        "flows_flowinstance",
        "INSERT",
        "reports_daily_fact_instance",
    ),
    _pg_statement_trigger(
        "reports_daily_fact_instance_delete",
        "flows_flowinstance",
        "DELETE",
        "reports_daily_fact_instance",
    ),
    _pg_row_trigger(
        "reports_daily_fact_instance_update",
        "flows_flowinstance",
        _INSTANCE_CHANGED,
        "reports_daily_fact_instance_row",
    ),
]
_TRIGGERS = [
    ("reports_daily_fact_record_insert", "forms_record"),
    ("reports_daily_fact_record_delete", "forms_record"),
    ("reports_daily_fact_record_update", "forms_record"),
    ("reports_daily_fact_form_update", "forms_formdefinition"),
    ("reports_daily_fact_instance_insert", "flows_flowinstance"),
    ("reports_daily_fact_instance_delete", "flows_flowinstance"),
    ("reports_daily_fact_instance_update", "flows_flowinstance"),
]
_SOURCES = "('applied', 'applied_m', 'decided', 'decided_m')"
PG_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {t} ON {table}" for t, table in _TRIGGERS),
    *(
        f"DROP FUNCTION IF EXISTS {f}()"
        for f in (
            "reports_daily_fact_record",
            "reports_daily_fact_record_row",
            "reports_daily_fact_form_row",
            "reports_daily_fact_instance",
            "reports_daily_fact_instance_row",
        )
    ),
    f"DELETE FROM reports_dailyfact WHERE source IN {_SOURCES}",
]


def _sqlite_days(column: str) -> list[tuple[str, str]]:
    day = f"date({column}, '{SQLITE_OFFSET}')"
    return [("", day), ("_m", f"date({day}, 'start of month')")]


def _sqlite_applied(t: str, sign: str) -> str:
    """The record OLD or NEW (t = 'OLD.' / 'NEW.'), when its form is an application form."""
    return "".join(
        f"""
    INSERT INTO reports_dailyfact ({_COLS})
    SELECT 'applied{suffix}', {when}, {t}department_id, {t}owner_id, NULL, '', '', {sign}1, 0, 0
    WHERE (SELECT kind FROM forms_formdefinition WHERE id = {t}form_id) = {_APPLICATION};"""
        for suffix, when in _sqlite_days(f"{t}created_at")
    )


def _sqlite_decided(t: str, sign: str) -> str:
    return "".join(
        f"""
    INSERT INTO reports_dailyfact ({_COLS})
    SELECT 'decided{suffix}', {when}, {t}department_id, {t}initiator_id, NULL, '', '',
           {sign}1, 0, {sign}(CASE WHEN {t}status = 'approved' THEN 1 ELSE 0 END)
    WHERE {t}status IN ('approved', 'rejected') AND {t}finished_at IS NOT NULL;"""
        for suffix, when in _sqlite_days(f"{t}finished_at")
    )


def _sqlite_form_records() -> str:
    sign = f"(CASE WHEN NEW.kind = {_APPLICATION} THEN 1 ELSE -1 END)"
    return "".join(
        f"""
    INSERT INTO reports_dailyfact ({_COLS})
    SELECT 'applied{suffix}', {when}, department_id, owner_id, NULL, '', '', {sign} * COUNT(*), 0, 0
    FROM forms_record WHERE form_id = NEW.id GROUP BY 2, 3, 4;"""
        for suffix, when in _sqlite_days("created_at")
    )


def _is_not(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


SQLITE_FORWARD = [
    f"""
CREATE TRIGGER reports_daily_fact_record_insert AFTER INSERT ON forms_record
BEGIN {_sqlite_applied("NEW.", "")} END
""",
    f"""
CREATE TRIGGER reports_daily_fact_record_delete AFTER DELETE ON forms_record
BEGIN {_sqlite_applied("OLD.", "-")} END
""",
    f"""
CREATE TRIGGER reports_daily_fact_record_update AFTER UPDATE ON forms_record
WHEN {_is_not(("created_at", "department_id", "owner_id", "form_id"))}
BEGIN {_sqlite_applied("OLD.", "-")} {_sqlite_applied("NEW.", "")} END
""",
    f"""
CREATE TRIGGER reports_daily_fact_form_update AFTER UPDATE ON forms_formdefinition
WHEN (OLD.kind = {_APPLICATION}) IS NOT (NEW.kind = {_APPLICATION})
BEGIN {_sqlite_form_records()} END
""",
    f"""
CREATE TRIGGER reports_daily_fact_instance_insert AFTER INSERT ON flows_flowinstance
BEGIN {_sqlite_decided("NEW.", "")} END
""",
    f"""
CREATE TRIGGER reports_daily_fact_instance_delete AFTER DELETE ON flows_flowinstance
BEGIN {_sqlite_decided("OLD.", "-")} END
""",
    f"""
CREATE TRIGGER reports_daily_fact_instance_update AFTER UPDATE ON flows_flowinstance
WHEN ({_is_not(("status", "finished_at", "department_id", "initiator_id"))}) AND {_EITHER_DECIDED}
BEGIN {_sqlite_decided("OLD.", "-")} {_sqlite_decided("NEW.", "")} END
""",
]
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {t}" for t, _ in _TRIGGERS),
    f"DELETE FROM reports_dailyfact WHERE source IN {_SOURCES}",
]


def _backfill(vendor: str) -> list[str]:
    days = _pg_days if vendor == "postgresql" else _sqlite_days
    out = []
    for suffix, when in days("r.created_at"):
        out.append(
            f"""
INSERT INTO reports_dailyfact ({_COLS}, folded)
SELECT 'applied{suffix}', {when}, r.department_id, r.owner_id, NULL, '', '', COUNT(*), 0, 0, true
FROM forms_record r JOIN forms_formdefinition f ON f.id = r.form_id
WHERE f.kind = {_APPLICATION}
GROUP BY {when}, r.department_id, r.owner_id
"""
        )
    for suffix, when in days("finished_at"):
        out.append(
            f"""
INSERT INTO reports_dailyfact ({_COLS}, folded)
SELECT 'decided{suffix}', {when}, department_id, initiator_id, NULL, '', '', COUNT(*), 0,
       SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), true
FROM flows_flowinstance WHERE {_DECIDED}
GROUP BY {when}, department_id, initiator_id
"""
        )
    return out


def _run(forward: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if forward:
            statements = (PG_FORWARD if vendor == "postgresql" else SQLITE_FORWARD) + _backfill(
                vendor
            )
        else:
            statements = PG_BACKWARD if vendor == "postgresql" else SQLITE_BACKWARD
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_daily_fact_folded"),
        ("forms", "0001_initial"),
        ("flows", "0003_instance_fillfactor"),
    ]

    operations = [migrations.RunPython(_run(True), _run(False), elidable=False)]
