"""A small correct fleet and its Stripe world, for fault tests and the benchmark."""

from __future__ import annotations

import random
import string
from pathlib import Path

from auditor.config import Environment
from auditor.rules.guide import REQUIRED_EVENTS, callback_url
from tests.stub_stripe import make_account, make_endpoint

_ALNUM = string.ascii_letters + string.digits


def company_id(i: int) -> str:
    return f"T{i:09d}FLEET000000"[:20]


def build_fleet(directory: Path, tenants: int, seed: int = 7) -> tuple[Path, dict[str, dict], list[str]]:
    """Write a tenant file of N correct tenants (secrets in one env-free file each).

    Returns the tenant file, the stub world, and every secret (for leak scans).
    """
    rng = random.Random(seed)
    rand = lambda n: "".join(rng.choice(_ALNUM) for _ in range(n))  # noqa: E731
    secrets_dir = directory / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    world: dict[str, dict] = {}
    secrets: list[str] = []
    lines: list[str] = []
    for i in range(tenants):
        cid = company_id(i)
        account = "acct_1" + rand(15)
        lines += ["[[tenants]]", f'company_id = "{cid}"', f'name = "Fleet Tenant {i}"']
        for env in Environment:
            mode = env.stripe_mode
            pk, sk = f"pk_{mode}_5{account[5:]}{rand(30)}", f"sk_{mode}_5{account[5:]}{rand(30)}"
            wh = f"whsec_{rand(32)}"
            (secrets_dir / f"{cid}_{env.value}_sk").write_text(sk + "\n")
            (secrets_dir / f"{cid}_{env.value}_wh").write_text(wh + "\n")
            secrets += [sk, wh]
            lines += [f"[tenants.{env.value}]", f'account_id = "{account}"', f'publishable_key = "{pk}"',
                      f'secret_key = {{ file = "secrets/{cid}_{env.value}_sk" }}',
                      f'signing_secret = {{ file = "secrets/{cid}_{env.value}_wh" }}']
            world[sk] = {
                "account": make_account(account, name=f"Fleet Tenant {i}"),
                "webhook_endpoints": [make_endpoint(f"we_{rand(24)}", callback_url(cid, env), list(REQUIRED_EVENTS),
                                                    livemode=env is Environment.LIVE)],
                "events": [],
            }
        lines.append("")
    config = directory / "tenants.toml"
    config.write_text("\n".join(lines))
    return config, world, secrets


def live_key(world: dict[str, dict], index: int) -> str:
    """The live secret key of tenant ``index`` (world keys are in file order, stage then live)."""
    return list(world)[2 * index + 1]
