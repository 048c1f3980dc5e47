"""Model instances for the postback's path on the edge, built straight from their values.

Every postback builds two: the click its lookup found and the conversion it stores. Django's
``Model.__init__`` sets each field through ``setattr`` (and through a Python descriptor for
every foreign key), sends ``pre_init`` and ``post_init``, and looks fields up by name when
given keywords: for these wide rows that was the largest share of a postback's own work. The
instance built here is the one ``Model.__init__`` (or ``from_db``) leaves: every concrete
field's attribute in the instance's ``__dict__``, and a fresh ``ModelState``.

It stands aside whenever that would differ: a model with ``pre_init`` or ``post_init``
receivers (a field type that needs them, the audit log, a test) is built by Django.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=models.Model)


def instance_build(model: type[M], attrs: dict[str, Any], *, db: str | None = None) -> M:
    """An instance of ``model`` with ``attrs`` (every concrete field's attname, nothing else):
    unsaved (``_state.adding``) without ``db``, loaded from ``db`` with it, as ``from_db``."""
    # ``receivers`` first: when neither signal has any receiver at all (production), the
    # per-sender lookups (four per postback) are not needed to know none is the model's.
    if (pre_init.receivers or post_init.receivers) and (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        names = [f.attname for f in model._meta.concrete_fields]
        if db is not None:
            return model.from_db(db, names, [attrs[n] for n in names])
        return model(*[attrs[n] for n in names])
    obj = model.__new__(model)
    state = ModelState()
    if db is not None:
        state.adding, state.db = False, db
    obj._state = state
    obj.__dict__.update(attrs)
    return obj
