"""Thin adapters: parse the request, fetch through `api.access`, call one `tickets`
service or selector, serialize."""
