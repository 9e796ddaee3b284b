"""Supervisor dashboard: the page, its JSON twin for auto-refresh, and CSV exports."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.services import audit_record
from tickets.dashboard.exports import EXPORTS, export_csv, export_rows
from tickets.dashboard.filters import DashboardFilterForm, DashboardFilters
from tickets.dashboard.panels import (
    dashboard_panel_exports,
    dashboard_panels_payload,
    dashboard_panels_render,
)
from tickets.dashboard.presenters import dashboard_payload


def can_supervise(user) -> bool:
    return user.is_active and (
        user.is_superuser or (user.is_staff and user.has_perm("tickets.supervise"))
    )


def supervisor_required(view):
    """Anonymous users go to the login page; staff without the permission get 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not can_supervise(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _filters(request: HttpRequest) -> tuple[DashboardFilterForm, DashboardFilters]:
    form = DashboardFilterForm(request.GET)
    return form, form.filters()


@require_GET
@supervisor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    return render(
        request,
        "dashboard/index.html",
        {
            "form": form,
            "filters": filters,
            "querystring": filters.querystring(),
            "payload": dashboard_payload(filters),
            "exports": list(EXPORTS),
            "panel_exports": dashboard_panel_exports(),
            "panels": dashboard_panels_render(filters, querystring=filters.querystring()),
        },
    )


@require_GET
@supervisor_required
def dashboard_data(request: HttpRequest) -> JsonResponse:
    _form, filters = _filters(request)
    payload = dashboard_payload(filters)
    payload["panels"] = dashboard_panels_payload(filters, querystring=filters.querystring())
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


@require_GET
@supervisor_required
def dashboard_export(request: HttpRequest, name: str) -> HttpResponse:
    if export_rows(name) is None:
        raise Http404
    _form, filters = _filters(request)
    audit_record(
        "export.csv",
        request=request,
        object_ref="tickets.dashboard",
        details={"export": name, "query": request.GET.urlencode()},
    )
    response = HttpResponse(export_csv(name, filters), content_type="text/csv; charset=utf-8")
    filename = f"dashboard-{name}-{filters.first_day:%Y%m%d}-{filters.last_day:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
