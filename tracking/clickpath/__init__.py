"""The click and impression hot path: ``GET /c/{token}`` and ``GET /i/{token}``.

- ``links``: token -> a frozen snapshot of offer, publisher, access and caps, cached per process
  for a few seconds and in Redis, evicted when any of them is saved.
- ``rules``: the checks in contract order (status and dates, approval, targeting, caps) and the
  redirect target (landing URL with macros, deep link, fallback).
- ``deeplinks``: the only code that decides whether a visitor-supplied ``url`` is followed.
- ``store``: the durable write. Production: one Redis round trip (a Lua script: stream entry,
  cap counters, uniqueness key, flood counter, pending copy for attribution). Redis down: the
  database. Both down: the local spool. Embedded mode: the database.
- ``writer``: batch insert of click/impression records (COPY + ON CONFLICT DO NOTHING).
- ``consumer``: the stream consumer behind ``manage.py consume_clicks``.
- ``spool``: the fsync'ed local file of last resort and its replay.
- ``handler``: the request -> response core; ``wsgi``: the lean WSGI app and the Django views.
"""
