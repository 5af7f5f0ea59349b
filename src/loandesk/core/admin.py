from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from loandesk.core.models import AuditEntry, BusinessDate, OutboxEvent


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for superusers."""

    list_display = ["at", "actor_username", "action", "target_type", "target_label", "ip"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_username", "target_label"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "topic", "status", "attempts", "aggregate_type", "aggregate_id"]
    list_filter = ["status", "topic"]


admin.site.register(BusinessDate)
