"""The loyalty programme (module ``loyalty``): members, tiers, a points ledger, rewards
and redemptions. crm's core never imports this package; it hears of stays through the
record events crm already emits (see ``crm.loyalty.events``)."""
