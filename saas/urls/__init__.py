"""URL confs: ``public`` (the platform's own site) and ``tenant`` (a hotel group's)."""
