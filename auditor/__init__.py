"""plenigo Stripe compliance auditor: checks every tenant's Stripe setup, read-only."""

__version__ = "0.1.0"
