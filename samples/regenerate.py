"""Regenerate the samples: tenants.toml, secrets/, and evidence/ recorded from the stub Stripe.

Everything here is invented. The eight tenants show one fully correct setup and
the typical mistakes; their Stripe side (accounts, webhook endpoints, failed
deliveries) is defined in :func:`world` and served by ``tests/stub_stripe.py``.
``evidence/`` is what the auditor saw, recorded with ``--save-evidence``, so
that the demo re-audits it without any Stripe account or network:

    python samples/regenerate.py        # from the repository root
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from auditor.cli import main as audit  # noqa: E402
from auditor.config import Environment  # noqa: E402
from auditor.rules.guide import REQUIRED_EVENTS, callback_url  # noqa: E402
from tests.stub_stripe import StubStripe, make_account, make_endpoint, make_event  # noqa: E402

_RNG = random.Random(20261123)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _rand(n: int) -> str:
    return "".join(_RNG.choice(_ALNUM) for _ in range(n))


@dataclass
class Keys:
    account: str
    pk: str
    sk: str
    wh: str


def keys_for(account: str, mode: str, kind: str = "sk") -> Keys:
    tail = account[5:]
    return Keys(account, f"pk_{mode}_5{tail}{_rand(30)}", f"{kind}_{mode}_5{tail}{_rand(30)}", f"whsec_{_rand(32)}")


@dataclass
class SampleTenant:
    company_id: str
    name: str
    story: str
    stage: Keys | None
    live: Keys | None
    contact: str | None = None
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # env -> field -> raw TOML value


def tenants() -> list[SampleTenant]:
    """The invented fleet, with the mistake each tenant demonstrates (the same every time)."""
    _RNG.seed(20261123)
    acc = {n: "acct_1" + _rand(15) for n in range(1, 10)}
    t = [
        SampleTenant("8XYM4WU2V6NJUM5LZ6C9", "Example Media GmbH", "fully correct, stage and live",
                     keys_for(acc[1], "test"), keys_for(acc[1], "live"), contact="payments@example-media.test"),
        SampleTenant("N0RDL1CHTVERLAG00002", "Nordlicht Verlag AG", "the test secret key on the live record",
                     keys_for(acc[2], "test"), keys_for(acc[2], "live"), contact="it@nordlicht.test"),
        SampleTenant("HAFENBL1CKMED1EN0003", "Hafenblick Medien KG",
                     "stage host on the live endpoint; live account not yet activated",
                     keys_for(acc[3], "test"), keys_for(acc[3], "live")),
        SampleTenant("BERGMANND1G1TAL00004", "Bergmann Digital GmbH",
                     "3 dispute events missing, extra events, failed deliveries on live",
                     keys_for(acc[4], "test"), keys_for(acc[4], "live")),
        SampleTenant("K1ELERRUNDSCHAU00005", "Kieler Rundschau GmbH",
                     "another tenant's companyID on the live endpoint; two stage endpoints",
                     keys_for(acc[5], "test"), keys_for(acc[5], "live")),
        SampleTenant("ALPENWELTABO00000006", "Alpenwelt Abo GmbH",
                     "disabled live endpoint; trailing newline in the stage publishable key; http on stage",
                     keys_for(acc[6], "test"), keys_for(acc[6], "live")),
        SampleTenant("RHE1NUFERPODCAST0007", "Rheinufer Podcasts UG",
                     "stage only; v1 instead of v1.0 and a trailing slash; secret key written into the file",
                     keys_for(acc[7], "test"), None),
        SampleTenant("SEEBL1CKSPORT0000008", "Seeblick Sport e.V.",
                     "restricted rk_ key that may not read /v1/account; stage and live on different accounts",
                     keys_for(acc[8], "test"), keys_for(acc[9], "live", kind="rk")),
    ]
    nordlicht = t[1]
    nordlicht.live.sk = nordlicht.stage.sk  # the mistake: the stage (test) key copied into the live record
    return t


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_tenant_file(fleet: list[SampleTenant]) -> None:
    secrets = HERE / "secrets"
    shutil.rmtree(secrets, ignore_errors=True)
    secrets.mkdir()
    lines = ["# Sample tenants for the demo. Every company, account, key and secret here is INVENTED.",
             "# Each tenant demonstrates one or more typical mistakes; see samples/README.md.", ""]
    for tenant in fleet:
        lines += ["[[tenants]]", f"company_id = {_toml_str(tenant.company_id)}", f"name = {_toml_str(tenant.name)}"]
        if tenant.contact:
            lines.append(f"contact = {_toml_str(tenant.contact)}")
        lines.append(f"# {tenant.story}")
        for env, keys in (("stage", tenant.stage), ("live", tenant.live)):
            if keys is None:
                continue
            slug = tenant.name.split()[0].lower()
            (secrets / f"{slug}_{env}_secret_key").write_text(keys.sk + "\n")
            (secrets / f"{slug}_{env}_signing_secret").write_text(keys.wh + "\n")
            fields = {
                "account_id": _toml_str(keys.account),
                "publishable_key": _toml_str(keys.pk),
                "secret_key": f'{{ file = "secrets/{slug}_{env}_secret_key" }}',
                "signing_secret": f'{{ file = "secrets/{slug}_{env}_signing_secret" }}',
            }
            fields.update(tenant.overrides.get(env, {}))
            lines += ["", f"[tenants.{env}]"] + [f"{k} = {v}" for k, v in fields.items()]
        lines.append("")
    (HERE / "tenants.toml").write_text("\n".join(lines))


def apply_record_mistakes(fleet: list[SampleTenant]) -> None:
    """Mistakes that live in the tenant file itself."""
    by_id = {t.company_id: t for t in fleet}
    alpen = by_id["ALPENWELTABO00000006"]
    alpen.overrides["stage"] = {"publishable_key": _toml_str(alpen.stage.pk + "\n")}
    rhein = by_id["RHE1NUFERPODCAST0007"]
    rhein.overrides["stage"] = {"secret_key": _toml_str(rhein.stage.sk)}


def world(fleet: list[SampleTenant], now: int) -> dict[str, dict]:
    """The Stripe side of every sample key: account, endpoints, undelivered events."""
    w: dict[str, dict] = {}
    events = list(REQUIRED_EVENTS)
    for t in fleet:
        for env, keys in ((Environment.STAGE, t.stage), (Environment.LIVE, t.live)):
            if keys is None or keys.sk in w:
                continue
            live = env is Environment.LIVE
            url = callback_url(t.company_id, env)
            w[keys.sk] = {
                "account": make_account(keys.account, name=t.name),
                "webhook_endpoints": [make_endpoint(f"we_{_rand(24)}", url, events, livemode=live,
                                                    description="plenigo callbacks")],
                "events": [make_event(f"evt_{_rand(24)}", "payment_intent.succeeded", now - 3600,
                                      pending_webhooks=0, livemode=live)],
            }
    _stripe_mistakes(w, {t.company_id: t for t in fleet}, now)
    return w


def _stripe_mistakes(w: dict[str, dict], by_id: dict[str, SampleTenant], now: int) -> None:
    """Mistakes that live in the tenants' Stripe accounts."""
    hafen = w[by_id["HAFENBL1CKMED1EN0003"].live.sk]
    hafen["webhook_endpoints"][0]["url"] = callback_url("HAFENBL1CKMED1EN0003", Environment.STAGE)
    hafen["account"] = make_account(hafen["account"]["id"], charges=False, payouts=False, details=False,
                                    due=["business_profile.url", "external_account", "representative.dob.day"],
                                    disabled_reason="requirements.past_due")
    hafen["account"]["requirements"]["past_due"] = ["external_account"]  # ACC006 names it
    example = w[by_id["8XYM4WU2V6NJUM5LZ6C9"].live.sk]  # the merchant's own endpoint: never plenigo's
    example["webhook_endpoints"].append(make_endpoint(
        f"we_{_rand(24)}", "https://erp.example-media.test/webhooks/plenigo-sync", ["invoice.paid"], livemode=True,
        description="ERP sync (the merchant's own)"))
    berg = w[by_id["BERGMANND1G1TAL00004"].live.sk]
    berg["webhook_endpoints"][0]["enabled_events"] = [
        e for e in REQUIRED_EVENTS if e not in ("charge.dispute.closed", "charge.dispute.funds_withdrawn",
                                                "charge.dispute.updated")] + ["customer.created", "invoice.paid"]
    berg["events"] += [make_event(f"evt_{_rand(24)}", kind, now - hours * 3600, livemode=True)
                       for kind, hours in (("payment_intent.succeeded", 5), ("payment_intent.payment_failed", 30),
                                           ("charge.dispute.created", 50))]
    kiel = by_id["K1ELERRUNDSCHAU00005"]
    w[kiel.live.sk]["webhook_endpoints"][0]["url"] = callback_url("BERGMANND1G1TAL00004", Environment.LIVE)
    stage_eps = w[kiel.stage.sk]["webhook_endpoints"]
    stage_eps.append(dict(stage_eps[0], id=f"we_{_rand(24)}", created=1710000000, description="added twice"))
    alpen = by_id["ALPENWELTABO00000006"]
    w[alpen.live.sk]["webhook_endpoints"][0]["status"] = "disabled"
    w[alpen.stage.sk]["webhook_endpoints"][0]["url"] = callback_url(alpen.company_id, Environment.STAGE).replace(
        "https://", "http://")
    rhein = w[by_id["RHE1NUFERPODCAST0007"].stage.sk]
    rhein["webhook_endpoints"][0]["url"] = callback_url("RHE1NUFERPODCAST0007", Environment.STAGE).replace(
        "/v1.0/", "/v1/") + "/"
    seeblick = by_id["SEEBL1CKSPORT0000008"]
    w[seeblick.live.sk]["faults"] = {"status_forever": {"/v1/account": 403}, "messages": {"/v1/account": (
        f"The provided key 'rk_live_{'*' * 33}{seeblick.live.sk[-4:]}' does not have the required permissions for "
        f"this endpoint on account '{seeblick.live.account}'. Having the 'rak_accounts_kyc_basic_read' permission "
        "would allow this request to continue.")}}


def record(fleet: list[SampleTenant]) -> int:
    evidence = HERE / "evidence"
    shutil.rmtree(evidence, ignore_errors=True)
    with StubStripe(world(fleet, int(time.time()))) as stub, tempfile.TemporaryDirectory() as out:
        code = audit(["run", "--all-tenants", "--config", str(HERE / "tenants.toml"), "--stripe-api-base", stub.url,
                      "--save-evidence", str(evidence), "--format", "json", "--output", out, "--quiet"])
        assert stub.methods_seen() == {"GET"}, stub.methods_seen()
    return code


def sample_fleet() -> list[SampleTenant]:
    fleet = tenants()
    apply_record_mistakes(fleet)
    return fleet


def main() -> int:
    fleet = sample_fleet()
    write_tenant_file(fleet)
    code = record(fleet)
    print(f"samples regenerated; the recorded audit exited {code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
