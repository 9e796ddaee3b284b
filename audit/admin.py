"""The audit log in the admin: superusers only, read-only, filters and a CSV export."""

from datetime import UTC

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy

from audit.actions import ACTION_LABELS, action_label
from audit.chain import HASHED_FIELDS, canonical_json
from audit.models import AuditEvent
from audit.services import audit_record
from helpdesk.csv_export import csv_writer

# The row as hashed, between its id and its hash: an export can be checked against the chain.
CSV_COLUMNS = ("id", *HASHED_FIELDS, "hash")


class _Echo:
    def write(self, value: str) -> str:
        return value


class ActionFilter(admin.SimpleListFilter):
    # A fixed list: DISTINCT over the whole log would scan it on every page view.
    title = gettext_lazy("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, label) for action, label in ACTION_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action_name", "actor_label", "address", "object_ref", "label")
    list_filter = (ActionFilter, "actor", ("created_at", admin.DateFieldListFilter))
    list_select_related = ()
    search_fields = ("object_ref",)
    search_help_text = gettext_lazy(
        "Object reference, e.g. tickets.ticket:42 (exact), or its beginning: tickets.contact"
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    date_hierarchy = None
    ordering = ("-id",)
    change_list_template = "admin/audit/auditevent/change_list.html"

    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_name(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    @admin.display(description=gettext_lazy("object label"))
    def label(self, obj: AuditEvent) -> str:
        return obj.object_label

    # --- Superusers only, and nobody changes a row -----------------------------------

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Exact for a full reference (index lookup), prefix for "app.model".
        if ":" in term:
            return queryset.filter(object_ref=term), False
        return queryset.filter(object_ref__startswith=term), False

    # --- CSV export of the filtered list -------------------------------------------

    def get_urls(self):
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="audit_auditevent_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        audit_record(
            "export.csv",
            request=request,
            object_ref="audit.auditevent",
            details={"export": "audit_log", "query": request.GET.urlencode()},
        )
        writer = csv_writer(_Echo())

        def rows():
            yield "\ufeff" + writer.writerow(CSV_COLUMNS)
            for row in queryset.values_list(*CSV_COLUMNS).iterator(chunk_size=2000):
                values = list(row)
                values[1] = values[1].astimezone(UTC).isoformat()
                values[8] = canonical_json(values[8])
                yield writer.writerow(values)

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        filename = f"audit-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
