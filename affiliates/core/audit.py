"""The audit log: who changed what, when, from where, and each field before -> after.

django-auditlog records every save and delete of a registered model through its signals, into
``AuditEntry`` (AUDITLOG_LOGENTRY_MODEL). This module adds what the network needs on top:

- **who and from where**, one context per request (``AuditMiddleware``): the signed-in user and
  the client address as ``proxies.request_client_ip`` reads it, so X-Forwarded-For counts only
  from TRUSTED_PROXIES (auditlog's own middleware believes the header from anyone). API tokens
  are checked after the middleware ran, by DRF: the token's user is added by ``audit_actor_set``.
- **system changes**: a Celery job or a postback runs inside ``audit_system(source)``: no actor,
  and ``source`` says which job it was.
- **tenants**: each entry keeps the advertiser and the publisher it is about (indexed columns,
  filled from the model's ``AuditSpec``), so an advertiser's or a publisher's view is one
  indexed filter, and the entry survives the object's deletion.
- **bulk writes**: ``bulk_update`` and ``update()`` fire no signal. Code that moves money that
  way (commission statuses) calls ``audit_log_changes`` with what it changed: one INSERT for the
  whole batch, never a row at a time.

Secrets (token digests, signing secrets) are excluded at registration and never reach a row.
Here, in the bottom app's core, since every app registers its models and none imports another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from auditlog.diff import model_instance_diff
from auditlog.models import AbstractLogEntry, LogEntryManager
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.encoding import smart_str

from affiliates.core.proxies import request_client_ip

#: Reads a tenant id off an instance (``None``: the entry is about no advertiser / publisher).
TenantOf = Callable[[Any], int | None]


@dataclass(frozen=True)
class AuditSpec:
    """How one model is audited: whose it is, and which fields each role may read in its
    entries (an allowlist, like the conversion trace's: a field not named is staff-only)."""

    advertiser_of: TenantOf | None = None
    publisher_of: TenantOf | None = None
    advertiser_fields: frozenset[str] = frozenset()
    publisher_fields: frozenset[str] = frozenset()
    label: str = ""  # the object type's name in filters and pages ("offer", "commission")


#: model label ("affiliates.Offer") -> its spec; filled by each app's ready().
SPECS: dict[str, AuditSpec] = {}
#: Never logged, whatever the model (auditlog also skips them in every diff).
SECRET_FIELDS = ("password", "postback_token_digest", "hmac_secret", "key", "secret", "signing_secret")


def attr_path(path: str) -> TenantOf:
    """``"offer.advertiser_id"`` -> a reader of that attribute chain (``None`` on a gap)."""

    def read(instance: Any) -> int | None:
        value = instance
        for name in path.split("."):
            value = getattr(value, name, None)
            if value is None:
                return None
        return int(value)

    return read


def audit_register(
    model: type[models.Model],
    *,
    label: str,
    advertiser: str | None = None,
    publisher: str | None = None,
    advertiser_fields: Iterable[str] = (),
    publisher_fields: Iterable[str] = (),
    exclude: Sequence[str] = (),
    mask: Sequence[str] = (),
    signals: bool = True,
) -> None:
    """Audit ``model``'s creates, updates and deletes. ``advertiser`` / ``publisher`` are the
    attribute paths to its tenants' ids; ``*_fields`` what each role may read of its changes.
    ``signals=False``: only what code logs with ``audit_log_changes`` (rows written in bulk,
    whose creation is an event of its own)."""
    SPECS[model._meta.label] = AuditSpec(
        advertiser_of=attr_path(advertiser) if advertiser else None,
        publisher_of=attr_path(publisher) if publisher else None,
        advertiser_fields=frozenset(advertiser_fields),
        publisher_fields=frozenset(publisher_fields),
        label=label,
    )
    if signals and not auditlog.contains(model):
        # The model's own columns only: auditlog would also diff reverse relations on create.
        hidden = {*SECRET_FIELDS, *exclude}
        columns = [f.name for f in model._meta.concrete_fields if f.name not in hidden]
        auditlog.register(model, include_fields=columns, exclude_fields=list(hidden), mask_fields=list(mask))


def spec_for(model: type[models.Model]) -> AuditSpec | None:
    return SPECS.get(model._meta.label)


# --- who, from where -----------------------------------------------------------------------


@dataclass
class AuditContext:
    actor: Any = None  # a user, or None for the system
    remote_addr: str | None = None
    source: str = ""  # "web", "api", or the job's name: "hold job", "seed_demo"

    def as_auditlog(self) -> dict[str, Any]:
        """The dict auditlog's pre_save receiver copies onto each entry it writes."""
        return {"actor": self.actor, "remote_addr": self.remote_addr, "source": self.source}


_context: ContextVar[AuditContext | None] = ContextVar("affnet_audit_context", default=None)


@contextlib.contextmanager
def audit_context(ctx: AuditContext) -> Iterator[AuditContext]:
    """Every audited change inside carries ``ctx``'s actor, address and source; restored on exit
    (auditlog's own context manager never resets its variable, so ours is the one read)."""
    token = _context.set(ctx)
    try:
        with set_extra_data(context_data=ctx.as_auditlog()) as _:
            yield ctx
    finally:
        _context.reset(token)


def audit_system(source: str) -> contextlib.AbstractContextManager[AuditContext]:
    """A change the system makes (a Celery job, a postback): no actor, ``source`` says which."""
    return audit_context(AuditContext(source=source))


def audit_actor_set(user: Any) -> None:
    """Name the actor once a later layer has authenticated the request (DRF's token check)."""
    ctx = _context.get()
    if ctx is None or ctx.actor is not None:
        return
    ctx.actor = user
    with contextlib.suppress(LookupError):
        auditlog_value.get()["actor"] = user


class AuditMiddleware:
    """Opens the request's audit context: the user (when signed in) and the client address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        ctx = AuditContext(
            actor=user if user is not None and user.is_authenticated else None,
            remote_addr=request_client_ip(request) or None,
            source="api" if request.path.startswith("/api/") else "web",
        )
        with audit_context(ctx):
            return self.get_response(request)


# --- the entries ---------------------------------------------------------------------------


class AuditEntryManager(LogEntryManager):  # type: ignore[misc]  # auditlog ships no types
    def log_create(self, instance: Any, force_log: bool = False, **kwargs: Any) -> Any:
        kwargs.update(_tenants(instance))
        return super().log_create(instance, force_log=force_log, **kwargs)


def _tenants(instance: Any) -> dict[str, int | None]:
    spec = SPECS.get(type(instance)._meta.label)
    if spec is None:
        return {}
    return {
        "advertiser_id": spec.advertiser_of(instance) if spec.advertiser_of else None,
        "publisher_id": spec.publisher_of(instance) if spec.publisher_of else None,
    }


class AuditEntry(AbstractLogEntry):  # type: ignore[misc]
    """One audited create, update or delete (django-auditlog's entry, with its tenants)."""

    # Plain ids, not foreign keys: the entry outlives the account it is about.
    advertiser_id: models.BigIntegerField[int | None, int | None] = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The advertiser the object belongs to, if any."
    )
    publisher_id: models.BigIntegerField[int | None, int | None] = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The publisher the object belongs to, if any."
    )
    source: models.CharField[str, str] = models.CharField(
        max_length=64,
        blank=True,
        help_text="web, api, or the job that made a system change (hold job, advertiser postback).",
    )

    objects = AuditEntryManager()

    class Meta(AbstractLogEntry.Meta):  # type: ignore[misc]
        app_label = "affiliates"
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object")]


@dataclass(frozen=True)
class AuditChange:
    """An update made without signals: the instance as it is now, and what changed."""

    instance: models.Model
    changes: Mapping[str, Sequence[Any]]  # field -> (before, after)
    source: str = ""  # who, when no request or job context says: "hold job", "reconcile (...)"
    action: int = AbstractLogEntry.Action.UPDATE


def audit_diff(instance: models.Model, before: Mapping[str, Any], *, source: str = "") -> AuditChange:
    """What changed since ``before`` (field -> old value), as an update to log."""
    diff = {n: (old, getattr(instance, n)) for n, old in before.items() if old != getattr(instance, n)}
    return AuditChange(instance=instance, changes=diff, source=source)


def audit_saved(before: models.Model | None, after: models.Model, *, source: str = "") -> AuditChange:
    """A create (``before`` None) or an update, diffed as auditlog's signals would (its
    registered fields only: secrets stay out), for rows written with its signals off."""
    diff = model_instance_diff(before, after) or {}
    action = AbstractLogEntry.Action.CREATE if before is None else AbstractLogEntry.Action.UPDATE
    return AuditChange(instance=after, changes=diff, source=source, action=action)


def audit_log_changes(rows: Sequence[AuditChange], *, by: Any = None) -> int:
    """Log updates made without signals (``bulk_update``, ``update()``), in one INSERT for the
    batch: the current context's actor (else ``by``, the user a service was told acted),
    address and source (else each row's own). Returns the entries written."""
    ctx = _context.get()
    actor = ctx.actor if ctx is not None and ctx.actor is not None else by
    actor = actor if getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    types: dict[type[models.Model], ContentType] = {}
    entries = []
    for row in rows:
        if not row.changes:
            continue
        instance, model = row.instance, type(row.instance)
        content_type = types.get(model) or types.setdefault(model, ContentType.objects.get_for_model(model))
        diff = {name: [_text(pair[0]), _text(pair[1])] for name, pair in row.changes.items()}
        entries.append(
            AuditEntry(
                content_type=content_type,
                object_pk=str(instance.pk),
                object_id=instance.pk,
                object_repr=smart_str(instance),
                action=row.action,
                changes=diff,
                actor=actor,
                actor_email=getattr(actor, "email", None),
                remote_addr=ctx.remote_addr if ctx is not None else None,
                source=(ctx.source if ctx is not None and ctx.source else row.source)[:64],
                timestamp=now,
                **_tenants(instance),
            )
        )
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)


def _text(value: Any) -> str:
    return "None" if value is None else smart_str(value)  # auditlog's own rendering of a value
