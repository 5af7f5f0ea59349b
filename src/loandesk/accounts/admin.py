from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from loandesk.accounts.models import ApiToken, Department, Role, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "department", "is_active", "is_superuser"]
    list_filter = ["is_active", "is_superuser", "roles", "department"]
    search_fields = ["username", "full_name"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("LoanDesk", {"fields": ("full_name", "department", "roles", "language")}),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "head", "path"]
    readonly_fields = ["path"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "data_scope", "is_system"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix"]
