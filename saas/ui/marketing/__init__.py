"""Screens of the marketing module (segments, templates, campaigns) and its public
doors: the open pixel, click redirects and the unsubscribe page, reached only through
signed links."""
