"""The database backend: django-tenants' PostgreSQL backend, plus what Atrium needs of
it (the embedded server started on first use, and check constraints always named, which
Citus requires)."""
