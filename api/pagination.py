"""Cursor pagination on every list: keyset on a unique column, so a walk over the pages
never skips or repeats a row while rows are being added, and no page costs more than
its own rows. `?estimate=1` adds the planner's row estimate (PostgreSQL; never a
COUNT(*) over a big table), `null` elsewhere."""

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from tickets.selectors_admin import count_estimate


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self._estimate = None
        self._with_estimate = request.query_params.get("estimate") in ("1", "true")
        if self._with_estimate:
            self._estimate = count_estimate(queryset)
        return super().paginate_queryset(queryset, request, view)

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
        params.append(
            {
                "name": "estimate",
                "required": False,
                "in": "query",
                "description": "1: add estimated_total to the page.",
                "schema": {"type": "string", "enum": ["1", "true"]},
            }
        )
        return params


class SlugCursorPagination(IdCursorPagination):
    ordering = "id"
