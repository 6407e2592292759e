"""The analytics module: guest scores (RFM, value, lifecycle, churn risk), the per-tenant
churn model, next best offers and the reports a hotel group runs on."""
