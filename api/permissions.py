"""Who may call an endpoint: a staff member who works tickets (the staff access layer's
rule), with the scope the endpoint needs when calling with a token; writes also need
the admin's change permission (the ticket's, or the one the view names)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.access import api_has_scope
from tickets.access import user_works_tickets

CHANGE_PERMISSION = "tickets.change_ticket"


class StaffWithScope(BasePermission):
    """Views say `read_scope` and `write_scope` (defaults below)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not user_works_tickets(user):
            raise exceptions.PermissionDenied(
                _("This account may not work with tickets."), code="not_staff"
            )
        safe = request.method in SAFE_METHODS
        scope = getattr(view, "read_scope" if safe else "write_scope", None)
        scope = scope or ("tickets:read" if safe else "tickets:write")
        if not api_has_scope(request, scope):
            raise exceptions.PermissionDenied(
                _("The token lacks the scope “%(scope)s”.") % {"scope": scope},
                code="scope_missing",
            )
        if not safe and not user.has_perm(getattr(view, "write_permission", CHANGE_PERMISSION)):
            raise exceptions.PermissionDenied(
                _("This account may not change tickets."), code="no_change_permission"
            )
        return True
