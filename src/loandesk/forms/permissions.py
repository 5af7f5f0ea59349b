"""Permission codes of the form engine."""

from loandesk.accounts.permissions import register_permissions

DESIGN = "forms.design"
VIEW_RECORDS = "forms.view_records"
SUBMIT = "forms.submit"
MANAGE_LINKS = "forms.manage_links"
EXPORT = "forms.export"
VIEW_PII = "forms.view_pii"

register_permissions(
    ("表单", "Forms"),
    {
        DESIGN: ("设计表单", "Design forms"),
        VIEW_RECORDS: ("查看表单数据", "View form records"),
        SUBMIT: ("填写与修改表单数据", "Submit and edit form records"),
        MANAGE_LINKS: ("分享表单链接", "Share public form links"),
        EXPORT: ("导出表单数据", "Export form records"),
        VIEW_PII: ("查看表单中的敏感信息", "Reveal personal data in form records"),
    },
)
