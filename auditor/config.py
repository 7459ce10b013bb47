"""The tenant file: TOML in, validated tenants with resolved secrets out.

Values are kept exactly as entered (a trailing space in a key is a finding of
the rules, not something to strip here). Anything that stops us from knowing
what the tenant *meant* is a :class:`ConfigError` naming file, tenant and field.
"""

from __future__ import annotations

import gc
import os
import re
import stat
import tomllib
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from auditor import tenant_toml
from auditor.parallel import forked_map
from auditor.redact import MIN_SECRET_LENGTH, register_secret
from auditor.secret_command import SecretCommandError, run_secret_command
from auditor.suggest import did_you_mean


class Environment(str, Enum):
    """A plenigo system; stage uses Stripe test mode, live uses live mode."""

    STAGE = "stage"
    LIVE = "live"

    @property
    def stripe_mode(self) -> str:
        return "test" if self is Environment.STAGE else "live"


class ConfigError(Exception):
    """A tenant file we cannot audit from; the message names file, tenant and field."""

    def __init__(self, file: Path | str, message: str, tenant: str | None = None, field: str | None = None):
        self.file = str(file)
        self.tenant = tenant
        self.field = field
        self.detail = message
        where = [self.file]
        if tenant:
            where.append(f"tenant {tenant}")
        if field:
            where.append(f"field {field}")
        super().__init__(f"{': '.join(where)}: {message}")


class ConfigErrors(ConfigError):
    """Several problems of one file or folder, every one listed (a user fixes them all in one go)."""

    problems: list[ConfigError]

    def __init__(self, file: Path | str, problems: list[ConfigError]):
        problems = [q for p in problems for q in (p.problems if isinstance(p, ConfigErrors) else [p])]
        self.problems = problems
        super().__init__(file, f"{len(problems)} problems")
        lines = [str(p).removeprefix(f"{p.file}: ") if p.file == str(file) else str(p) for p in problems]
        self.args = (f"{file}: {len(problems)} problems:\n" + "\n".join(f"  {line}" for line in lines),)


# --- the file as written -------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class EnvRef(_Strict):
    env: str


class FileRef(_Strict):
    file: str


class CommandRef(_Strict):
    command: list[str] = Field(min_length=1)  # argv of a vault client, run without a shell


SecretSpec = str | EnvRef | FileRef | CommandRef


class RecordSpec(_Strict):
    account_id: str | None = None
    publishable_key: str | None = None
    secret_key: SecretSpec | None = None
    signing_secret: SecretSpec | None = None


class TenantSpec(_Strict):
    company_id: str
    name: str | None = None
    contact: str | None = None
    stage: RecordSpec | None = None
    live: RecordSpec | None = None


class TenantFileSpec(_Strict):
    tenants: list[TenantSpec] = []


# --- the file as audited -------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A resolved secret; ``origin`` says where it came from (for KEY007)."""

    value: SecretStr
    origin: Literal["inline", "env", "file", "command"]
    source: str

    def reveal(self) -> str:
        return self.value.get_secret_value()

    def __repr__(self) -> str:  # never show the value, even in a traceback
        return f"Secret(origin={self.origin!r}, source={self.source!r})"


@dataclass(frozen=True)
class Record:
    """One Stripe connection (stage or live) of a tenant, as entered."""

    environment: Environment
    account_id: str | None = None
    publishable_key: str | None = None
    secret_key: Secret | None = None
    signing_secret: Secret | None = None


@dataclass(frozen=True)
class Tenant:
    company_id: str
    name: str
    contact: str | None
    records: dict[Environment, Record] = field(default_factory=dict)
    source_file: str = ""

    def record(self, env: Environment) -> Record | None:
        return self.records.get(env)


# --- loading -------------------------------------------------------------


def load_tenants(path: Path | str) -> list[Tenant]:
    """Load a tenant file, or every ``*.toml`` file of a folder (sorted by name)."""
    path = Path(path)
    _command_outputs.clear()  # a command runs once per load, so a rotated secret is read anew next time
    collecting = gc.isenabled()
    gc.disable()  # loading makes ~30 objects a tenant and frees none: the collector's passes over them were waste
    try:
        return _load_paths(path)
    finally:
        if collecting:
            gc.enable()


def _load_paths(path: Path) -> list[Tenant]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.toml") if p.is_file())
        if not files:
            raise ConfigError(path, "the folder holds no *.toml tenant files")
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(path, "no such file or folder (give the tenant file with --config)")
    tenants: list[Tenant] = []
    seen: dict[str, str] = {}
    problems: list[ConfigError] = []  # every file's problems, so one run shows everything to fix
    for file in files:
        try:
            loaded = _load_file(file)
        except ConfigError as exc:
            problems.append(exc)
            continue
        for tenant in loaded:
            if tenant.company_id in seen:
                problems.append(ConfigError(
                    file,
                    f"company_id {tenant.company_id!r} is used twice (also in {seen[tenant.company_id]})",
                    tenant=tenant.company_id,
                    field="company_id",
                ))
                continue
            seen[tenant.company_id] = tenant.source_file
            tenants.append(tenant)
    if len(problems) > 1:
        raise ConfigErrors(path, problems)
    if problems:
        raise problems[0]
    return tenants


def _load_file(file: Path) -> list[Tenant]:
    text = _read_text(file)
    fast = _load_in_parts(file, text)
    if fast is not None:
        return fast
    data = _parse_toml(file, text)
    try:
        spec = TenantFileSpec.model_validate(data)
    except ValidationError as exc:
        raise _explain_validation(file, data, exc) from None
    tenants, problems, folder = [], [], _folder_of(file)
    for index, tspec in enumerate(spec.tenants):
        try:
            tenants.append(_resolve_tenant(file, index, tspec, folder))
        except ConfigError as exc:
            problems.append(exc)
    try:
        _check_duplicates_within(file, spec)
    except ConfigError as exc:
        problems.append(exc)
    if problems:
        raise _combined(file, problems)
    return tenants


def _read_text(file: Path) -> str:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(file, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(file, f"the file is not UTF-8 text (byte {exc.start})") from None


def _parse_toml(file: Path, text: str) -> dict[str, Any]:
    plain = tenant_toml.loads(text)  # the common shape, read 6x faster; None: anything else, read by tomllib
    if plain is not None:
        return plain
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level: thousands of [[[... exhaust the stack
        raise ConfigError(file, "not valid TOML: arrays or tables nested too deeply") from None


PARALLEL_FROM = 1_000_000  # characters (about 1,500 tenants): below, forking costs more than it saves
_TENANTS_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*tenants[ \t]*\]\]", re.MULTILINE)
# The first statement a [[tenants]] header (blank and comment lines before it): then `tenants` is an array of
# tables in every part, as in the whole. A first part holding `tenants = [ {...} ]` parsed on its own, and so did
# the parts after it, yet the whole is not TOML (a [[tenants]] header cannot add to that array).
_OPENS_WITH_A_TENANT = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*\[\[[ \t]*tenants[ \t]*\]\]")


class _NotInParts(Exception):
    """A part that cannot be loaded on its own; the file is then loaded whole, so errors read as always."""


def _load_in_parts(file: Path, text: str) -> list[Tenant] | None:
    """A large, correct tenant file loaded on every core; ``None`` for a small one or any problem.

    tomllib was most of loading 10,000 tenants. The text is cut just before
    ``[[tenants]]`` headers into a part per core, and each part is parsed,
    validated and resolved (secret files read) in a forked process. The parts
    make the same document as the whole exactly when each parses on its own and
    holds nothing but tenants (a header inside a multi-line string leaves its
    part unterminated, so it fails). Any problem, including a configuration
    error, means ``None``: the caller loads the whole file, which finds and
    words every problem as it always did. The secrets are registered here: a
    child's registrations end with it.
    """
    parts = _cut_at_tenants(text, _cores()) if len(text) >= PARALLEL_FROM and _OPENS_WITH_A_TENANT.match(text) \
        else []
    loaded = forked_map(partial(_load_part, str(file)), parts, encode=_to_plain,
                        decode=partial(_from_plain, str(file))) if len(parts) > 1 else None
    if loaded is None:
        return None
    tenants = [tenant for part in loaded for tenant in part]
    if len({t.company_id for t in tenants}) != len(tenants):
        return None  # a duplicate: worded by the whole load
    return tenants


# The loading process's part, in children's parts: it pickles nothing, and both should end together (it rebuilds
# the children's tenants only after). Measured, 10,000 tenants on 2 cores, no other load: 1.05-1.1 best, 1.15 1%
# and 0.95 or 1.25 3% slower.
PARENT_SHARE = 1.1


def _cores() -> int:
    try:
        return min(4, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return min(4, os.cpu_count() or 1)


def _cut_at_tenants(text: str, count: int) -> list[str]:
    """``text`` in ``count`` parts (the first a little larger), each cut just before a ``[[tenants]]`` header."""
    cuts = [0]
    weight = count - 1 + PARENT_SHARE  # the first part is this process's
    for k in range(1, count):
        header = _TENANTS_HEADER.search(text, max(int(len(text) * (k - 1 + PARENT_SHARE) / weight), cuts[-1] + 1))
        if header is None:
            break
        cuts.append(header.start())
    return [text[a:b] for a, b in zip(cuts, cuts[1:] + [len(text)], strict=True)]


def _load_part(file: str, text: str) -> list[Tenant]:
    """One part's tenants, parsed, validated and resolved (a forked child's work); raises on any problem."""
    data = tenant_toml.loads(text)
    if data is None:
        data = tomllib.loads(text)
    if set(data) != {"tenants"}:
        raise _NotInParts("a part holds more than tenants")
    spec = TenantFileSpec.model_validate(data)
    if any(isinstance(getattr(record, name), CommandRef) for tenant in spec.tenants
           for record in (tenant.stage, tenant.live) if record is not None
           for name in ("secret_key", "signing_secret")):
        raise _NotInParts("a vault command runs once per load, in the auditor's own process")
    path = Path(file)
    folder = _folder_of(path)
    return [_resolve_tenant(path, index, tspec, folder) for index, tspec in enumerate(spec.tenants)]


EARLY_FROM = 200_000  # characters (about 300 tenants): below, the whole file loads in a few milliseconds


def early_tenant(path: Path | str, company_id: str) -> Tenant | None:
    """The tenant ``company_id`` of a large tenant file, read from its own ``[[tenants]]`` block ahead of the file.

    ``audit checklist`` asks Stripe about one tenant, yet loads the whole file (10,000 tenants: about a second)
    for its verdict: with this it can ask while the file loads. ``None`` whenever this is not certain to be the
    tenant the whole load will give (a folder, a small file, an ID written more than once, a block that does not
    load on its own, a vault command, any error): the caller then waits for the whole load. The whole load
    still decides; a caller must compare its tenant with this one before using what was read for it.
    """
    file = Path(path)
    try:
        if not file.is_file() or file.stat().st_size < EARLY_FROM:
            return None
        text = file.read_bytes().decode("utf-8")
        found = [m.start() for m in re.finditer(re.escape(f'"{company_id}"'), text)]
        if len(found) != 1 or not company_id or not _OPENS_WITH_A_TENANT.match(text):
            return None
        headers = [h.start() for h in _TENANTS_HEADER.finditer(text)]
        start = max((h for h in headers if h < found[0]), default=None)
        if start is None:
            return None
        end = min((h for h in headers if h > found[0]), default=len(text))
        tenants = _load_part(str(file), text[start:end])
    except Exception:  # anything at all: the whole load finds and words it
        return None
    return tenants[0] if len(tenants) == 1 and tenants[0].company_id == company_id else None


# A tenant as tuples of strings: a child sends these back, 4x faster to unpickle than the objects (SecretStr).
_PlainSecret = tuple[str, str, str] | None  # value, origin, source
_PlainRecord = tuple[str, str | None, str | None, _PlainSecret, _PlainSecret]
_PlainTenant = tuple[str, str, str | None, list[_PlainRecord]]


def _to_plain(tenants: list[Tenant]) -> list[_PlainTenant]:
    def secret(s: Secret | None) -> _PlainSecret:
        return None if s is None else (s.reveal(), s.origin, s.source)

    return [(tenant.company_id, tenant.name, tenant.contact, [
        (env.value, r.account_id, r.publishable_key, secret(r.secret_key), secret(r.signing_secret))
        for env, r in tenant.records.items()]) for tenant in tenants]


def _from_plain(file: str, plain: list[_PlainTenant]) -> list[Tenant]:
    """The tenants a child resolved, their secrets registered here (a child's registrations end with it)."""
    def secret(s: _PlainSecret) -> Secret | None:
        if s is None:
            return None
        register_secret(s[0])
        return Secret(value=SecretStr(s[0]), origin=s[1], source=s[2])  # type: ignore[arg-type]  # one of 4, as sent

    environments = {env.value: env for env in Environment}  # a dict, not Environment(value): a call an enum makes slow
    return [Tenant(company_id=company_id, name=name, contact=contact, source_file=file, records={
        environments[env]: Record(environment=environments[env], account_id=account_id, publishable_key=key,
                                  secret_key=secret(sk), signing_secret=secret(wh))
        for env, account_id, key, sk, wh in records}) for company_id, name, contact, records in plain]


def _explain_validation(file: Path, data: dict[str, Any], exc: ValidationError) -> ConfigError:
    """Every problem pydantic found, each naming tenant and field (one fix per run, not one per problem)."""
    problems: dict[str, ConfigError] = {}
    for err in exc.errors():
        problem = _explain_one(file, data, err)
        problems.setdefault(str(problem), problem)
    return _combined(file, list(problems.values()))


def _explain_one(file: Path, data: dict[str, Any], err: Any) -> ConfigError:
    loc = list(err["loc"])
    tenant = None
    if len(loc) >= 2 and loc[0] == "tenants" and isinstance(loc[1], int):
        tenant = _tenant_label(data, loc[1])
        loc = loc[2:]
    # pydantic names the union member it tried ("str", "EnvRef"); those are not fields
    names = [str(p) for p in loc if p not in ("str", "EnvRef", "FileRef", "CommandRef", "function-after[...]")]
    secret_at = next((i for i, n in enumerate(names) if n in ("secret_key", "signing_secret")), None)
    if secret_at is not None and secret_at >= 1:  # one message per secret, not one per union member tried
        names = names[: secret_at + 1]
        return ConfigError(file, 'a secret is a string, { env = "NAME" }, { file = "path" } or '
                                 '{ command = ["client", "arg"] }', tenant=tenant, field=".".join(names))
    field_name = ".".join(names) or None
    kind = err["type"]
    if kind == "extra_forbidden":
        message = "unknown key (a typo?)" + did_you_mean(names[-1], _known_keys(tenant is not None, len(names)))
    elif kind == "missing":
        message = "required field is missing"
    else:
        message = err["msg"]
    return ConfigError(file, message, tenant=tenant, field=field_name)


def _known_keys(in_tenant: bool, depth: int) -> list[str]:
    """The keys allowed where an unknown key was found: the file, a tenant, or a record."""
    model = TenantFileSpec if not in_tenant else TenantSpec if depth <= 1 else RecordSpec
    return list(model.model_fields)


def _combined(file: Path | str, problems: list[ConfigError]) -> ConfigError:
    """One error for one problem; for several, one that lists them all, a line each."""
    if len(problems) == 1:
        return problems[0]
    return ConfigErrors(file, problems)


def _tenant_label(data: dict[str, Any], index: int) -> str:
    try:
        cid = data["tenants"][index].get("company_id")
    except (KeyError, IndexError, TypeError, AttributeError):
        cid = None
    return f"{cid} (tenants[{index}])" if isinstance(cid, str) and cid else f"tenants[{index}]"


def _check_duplicates_within(file: Path, spec: TenantFileSpec) -> None:
    seen: set[str] = set()
    for tspec in spec.tenants:
        if tspec.company_id in seen:
            raise ConfigError(file, f"company_id {tspec.company_id!r} is used twice", tenant=tspec.company_id,
                              field="company_id")
        seen.add(tspec.company_id)


# Per record: its environment, the TenantSpec attribute, and each secret's attribute and field name (as messages
# name it), worked out once rather than per tenant.
_SECRET_NAMES = ("secret_key", "signing_secret")
_RECORD_FIELDS = tuple((env, env.value, tuple((name, f"{env.value}.{name}") for name in _SECRET_NAMES))
                       for env in Environment)


def _resolve_tenant(file: Path, index: int, spec: TenantSpec, folder: str) -> Tenant:
    """A tenant with its secrets read; ``folder`` is where relative secret files are (see :func:`_folder_of`)."""
    company_id = spec.company_id
    label = f"{company_id} (tenants[{index}])" if company_id else f"tenants[{index}]"
    if not (company_id.isascii() and company_id.isalnum()):  # the character-by-character check only if it fails
        _check_company_id(file, label, company_id)
    records: dict[Environment, Record] = {}
    problems: list[ConfigError] = []
    for env, attribute, secret_fields in _RECORD_FIELDS:
        rspec: RecordSpec | None = getattr(spec, attribute)
        if rspec is None:
            continue
        secrets = {}
        for name, field_name in secret_fields:
            try:
                secrets[name] = _resolve_secret(file, folder, label, field_name, getattr(rspec, name))
            except ConfigError as exc:  # keep going: every missing secret of the tenant is listed
                problems.append(exc)
        if problems:
            continue
        records[env] = Record(environment=env, account_id=rspec.account_id, publishable_key=rspec.publishable_key,
                              **secrets)
    if problems:
        raise _combined(file, problems)
    return Tenant(company_id=company_id, name=spec.name or company_id, contact=spec.contact, records=records,
                  source_file=str(file))


def _check_company_id(file: Path, label: str, company_id: str) -> None:
    if not company_id.strip():
        raise ConfigError(file, "company_id is empty", tenant=label, field="company_id")
    bad = _first_non_alnum(company_id)
    if bad is not None:
        raise ConfigError(file, f"company_id may hold only ASCII letters and digits, as in the Merchant Backend URL; "
                                f"found {bad}", tenant=label, field="company_id")


def _first_non_alnum(value: str) -> str | None:
    """Describe the first character that cannot be in a companyID (spaces, look-alikes)."""
    for position, char in enumerate(value, start=1):
        if not (char.isascii() and char.isalnum()):
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            return f"{name.lower()} (U+{ord(char):04X}) at position {position}"
    return None


def _resolve_secret(file: Path, folder: str, tenant: str, field_name: str, spec: SecretSpec | None) -> Secret | None:
    if spec is None:
        return None
    origin: Literal["inline", "env", "file", "command"]
    if isinstance(spec, FileRef):  # the commonest first: the four kinds are distinct types
        value, origin, source = _read_secret_file(file, folder, tenant, field_name, spec.file), "file", spec.file
    elif isinstance(spec, str):
        value, origin, source = spec, "inline", "the tenant file"
    elif isinstance(spec, EnvRef):
        if spec.env not in os.environ:
            raise ConfigError(file, f"environment variable {spec.env} is not set", tenant=tenant, field=field_name)
        value, origin, source = os.environ[spec.env], "env", f"${spec.env}"
    else:
        value, origin, source = _run_command(file, tenant, field_name, spec.command), "command", spec.command[0]
    length = len(value.strip())
    if 0 < length < MIN_SECRET_LENGTH:  # no Stripe secret is; and it could not be kept out of outputs
        raise ConfigError(file, f"the secret from {source} has {length} character(s): too short to be a "
                                f"real Stripe secret", tenant=tenant, field=field_name)
    register_secret(value)
    return Secret(value=SecretStr(value), origin=origin, source=source)


_command_outputs: dict[tuple[str, ...], str] = {}


def _run_command(file: Path, tenant: str, field_name: str, argv: list[str]) -> str:
    """A command's secret, run once per distinct argv in a load (400 tenants, one vault login)."""
    key = tuple(argv)
    if key not in _command_outputs:
        try:
            value = run_secret_command(argv, cwd=file.parent)  # like file paths: relative to the tenant file
        except SecretCommandError as exc:
            raise ConfigError(file, str(exc), tenant=tenant, field=field_name) from None
        register_secret(value)  # before anything else can print it
        _command_outputs[key] = value
    return _command_outputs[key]


SECRET_FILE_LIMIT = 4096  # Stripe's secrets are 100-250 characters; anything larger is not a secret file


class _NotRegular(Exception):
    """A secret source that is not a small regular file (a device, a FIFO, a folder, a huge file)."""


def _read_capped(path: str | Path, limit: int) -> bytes:
    """Read a regular file of at most ``limit`` bytes, refusing anything else before reading.

    ``O_NONBLOCK`` and ``fstat`` on the opened descriptor, so that a FIFO never
    blocks the run and ``/dev/zero`` or ``/dev/stdin`` are refused instead of
    read until memory runs out; the read itself is capped in case the file grows.
    One read of ``limit + 1`` bytes: a regular file reads short only at its end,
    so a short read is the whole file, and a full one is a file over the cap.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular("is a folder" if stat.S_ISDIR(info.st_mode) else
                              "is not a regular file (a device, FIFO or socket); give a file holding the secret")
        if info.st_size > limit:
            raise _NotRegular(f"is larger than {limit} bytes: not a secret file")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise _NotRegular(f"is larger than {limit} bytes: not a secret file")
    return data


def _folder_of(file: Path) -> str:
    """What a relative secret file name is appended to: the tenant file's folder and a separator, or ``""``."""
    # plain strings, not pathlib, and once per file: building paths per secret was a third of loading 10,000 tenants
    directory = os.path.dirname(os.fspath(file))
    return directory if not directory or directory.endswith(os.sep) else directory + os.sep  # as os.path.join


def _read_secret_file(file: Path, folder: str, tenant: str, field_name: str, name: str) -> str:
    """Read a secret file relative to the tenant file (``folder``: :func:`_folder_of` it).

    One final line ending is the file's, not the value's (``echo key > file``
    writes one); anything else, such as a second newline or a space, is kept
    so that the rules can report it.
    """
    try:
        raw = _read_capped(name if os.path.isabs(name) else folder + name, SECRET_FILE_LIMIT)
    except _NotRegular as exc:
        raise ConfigError(file, f"secret file {name} {exc}", tenant=tenant, field=field_name) from None
    except FileNotFoundError:
        raise ConfigError(file, f"secret file {name} does not exist", tenant=tenant, field=field_name) from None
    except OSError as exc:
        raise ConfigError(file, f"secret file {name} cannot be read ({exc.strerror})", tenant=tenant,
                          field=field_name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(file, f"secret file {name} is not UTF-8 text", tenant=tenant, field=field_name) from None
    if text.endswith("\n"):
        return text[:-2] if text.endswith("\r\n") else text[:-1]
    return text
