"""Department deadlines in the admin (seed 003: «обязательный срок исполнения»)."""

from django.contrib import admin

from tickets.models import DepartmentDeadline


@admin.register(DepartmentDeadline)
class DepartmentDeadlineAdmin(admin.ModelAdmin):
    list_display = ("group", "hours")
    list_select_related = ("group",)
    autocomplete_fields = ("group",)
