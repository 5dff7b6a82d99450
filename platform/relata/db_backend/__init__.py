"""Relata's PostgreSQL backend: Django's, with DDL and errors that also suit a Citus cluster.

django-tenants wraps it (``ORIGINAL_BACKEND``), so the tenant search_path handling is unchanged.
On plain PostgreSQL every statement it emits builds the same schema as Django's own backend.
"""
