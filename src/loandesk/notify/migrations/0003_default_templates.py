"""Default templates every installation starts with (admins edit them on 通知渠道)."""

from django.db import migrations

TEMPLATES = [
    # code, channel, category, name, subject, body, variables
    (
        "verification_code", "sms", "transactional", "验证码", "",
        "您的验证码是{code},{minutes}分钟内有效。如非本人操作请忽略。", ["code", "minutes"],
    ),
    (
        "repayment_reminder", "sms", "transactional", "还款提醒", "",
        "尊敬的{name},您的贷款将于{due_date}到期应还{amount}元,请按时还款。",
        ["name", "due_date", "amount"],
    ),
    (
        "overdue_notice", "sms", "collection", "逾期提醒", "",
        "尊敬的{name},您的贷款已逾期{days}天,请尽快还款,以免影响您的信用。",
        ["name", "days"],
    ),
    (
        "owner_alert", "inapp", "transactional", "客户经理提醒", "{title}", "{text}",
        ["title", "text"],
    ),
]


def forward(apps, schema_editor):
    Template = apps.get_model("notify", "Template")
    for code, channel, category, name, subject, body, variables in TEMPLATES:
        Template.objects.get_or_create(
            code=code,
            channel=channel,
            defaults={
                "category": category,
                "name": name,
                "subject": subject,
                "body": body,
                "variables": variables,
            },
        )


def backward(apps, schema_editor):
    Template = apps.get_model("notify", "Template")
    for code, channel, *_ in TEMPLATES:
        Template.objects.filter(code=code, channel=channel).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0002_channels")]
    operations = [migrations.RunPython(forward, backward)]
