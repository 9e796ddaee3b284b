"""Cursor pagination on every list: keyset on a unique column, so a walk over the pages
never skips or repeats a row while rows are being added, and no page costs more than
its own rows. `?estimate=1` adds the planner's row estimate (PostgreSQL; never a
COUNT(*) over a big table), `null` elsewhere."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from tickets.selectors_admin import count_estimate

ESTIMATE_VALUES = ("1", "true", "0", "false")


def flag_check(request, name: str, allowed: tuple[str, ...]) -> None:
    """A query flag with a value outside `allowed` is a bad input (400), not "off"."""
    value = request.query_params.get(name)
    if value is not None and value not in allowed:
        raise ValidationError({name: [_("One of: %(values)s.") % {"values": ", ".join(allowed)}]})


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self._estimate = None
        flag_check(request, "estimate", ESTIMATE_VALUES)
        self._with_estimate = request.query_params.get("estimate") in ("1", "true")
        if self._with_estimate:
            self._estimate = count_estimate(queryset)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        # A limit that is not a positive whole number is a bad input (400), not silently
        # the default page, so a client's bug shows at once; above the maximum it is
        # capped (the page says how far it got through `next`).
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [_("A whole number from 1.")]})
        return min(int(raw), self.max_page_size)

    def decode_cursor(self, request):
        # DRF answers a garbled cursor with 404; it is a bad input like any other.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from None

    def get_paginated_response(self, data):
        body = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        if self._with_estimate:
            body["estimated_total"] = self._estimate
        body["results"] = data
        return Response(body)

    def get_paginated_response_schema(self, schema):
        body = super().get_paginated_response_schema(schema)
        # DRF writes OpenAPI 3.0's `nullable`; in 3.1 (JSON Schema) null is a type.
        for link in ("next", "previous"):
            body["properties"][link] = {
                "type": ["string", "null"],
                "format": "uri",
                "description": "The next (previous) page, null at the end (start).",
            }
        body["required"] = ["next", "previous", "results"]
        body["properties"]["estimated_total"] = {
            "type": ["integer", "null"],
            "description": "With ?estimate=1: the planner's row estimate (PostgreSQL), "
            "null where none is available. Never an exact count.",
        }
        return body

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_size_query_param:
                param["schema"]["minimum"] = 1
                param["description"] = f"Rows per page, 1 to {self.max_page_size} (larger: capped)."
        params.append(
            {
                "name": "estimate",
                "required": False,
                "in": "query",
                "description": "1: add estimated_total to the page.",
                "schema": {"type": "string", "enum": list(ESTIMATE_VALUES)},
            }
        )
        return params


class SlugCursorPagination(IdCursorPagination):
    ordering = "id"
