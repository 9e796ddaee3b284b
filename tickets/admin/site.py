"""The admin site's titles: it is the operators' workspace."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Help desk — operator workspace")
admin.site.site_title = _("Help desk")
admin.site.index_title = _("Operator workspace")
# Operators work in wide tables and a two-column ticket page; the index lists the apps.
admin.site.enable_nav_sidebar = False
