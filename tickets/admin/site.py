"""The admin site's titles: it is the operators' workspace."""

from functools import update_wrapper

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Help desk — operator workspace")
admin.site.site_title = _("Help desk")
admin.site.index_title = _("Operator workspace")
# Operators work in wide tables and a two-column ticket page; the index lists the apps.
admin.site.enable_nav_sidebar = False


def model_admin_view(model_admin, view):
    """`view(model_admin, request, ...)` behind the admin's sign-in and staff checks, for
    a ModelAdmin's `get_urls`."""

    def bound(request, *args, **kwargs):
        return view(model_admin, request, *args, **kwargs)

    update_wrapper(bound, view)
    return model_admin.admin_site.admin_view(bound)
