"""The marketing module: offers and promo codes, segments, e-mail templates, campaigns
with consent, suppression, tracking and attribution."""
