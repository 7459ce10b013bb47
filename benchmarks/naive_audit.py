"""The baseline: what a user would otherwise write — a sequential loop over the stripe SDK.

    python benchmarks/naive_audit.py TENANTS.toml API_BASE
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stripe

from auditor.config import load_tenants


def main() -> None:
    config, base = sys.argv[1], sys.argv[2]
    since = int(time.time()) - 7 * 86400
    records = 0
    for tenant in load_tenants(config):
        for record in tenant.records.values():
            client = stripe.StripeClient(record.secret_key.reveal(), base_addresses={"api": base})
            account = client.v1.accounts.retrieve_current()
            endpoints = list(client.v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter())
            events = list(client.v1.events.list(
                params={"delivery_success": False, "created": {"gte": since}, "limit": 100}).auto_paging_iter())
            ok = account.id == record.account_id and any(tenant.company_id in e.url for e in endpoints)
            records += 1 if ok and not events else 0
    print(records)


if __name__ == "__main__":
    main()
