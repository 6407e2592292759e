"""Workflows: triggers, conditions and actions stored as metadata and run by Celery.

- ``registry``: the actions and the hooks upper layers (crm) register in ``ready()``:
  record updaters, owner setters, relations (reservation → guest), message recipients.
- ``definition``: validation of a workflow's trigger, condition tree and actions.
- ``conditions``: the AND/OR tree as one query through the metadata selector's operators.
- ``engine``: record events → runs (at most once), execution step by step, dry runs.
- ``scheduler``: date-relative and cron triggers, fanned out per tenant by beat.
- ``messaging``: the outbox, e-mail through Django's mail backend, SMS providers.
"""
