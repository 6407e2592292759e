"""Access control and privacy: roles, field-level permissions, property scoping,
temporary grants, the audit log, consent enforcement and login protection.

It lives in the lowest layer so every layer can ask the one decision point
(``tenants.access.policy``). Upper layers describe their objects and fields to it
through ``tenants.access.registry`` and their consent model through
``tenants.access.consent``. See README.md in this folder."""
