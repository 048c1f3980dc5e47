"""The click and impression hot path: ``GET /c/{token}`` and ``GET /i/{token}``, and the edge
that serves them (and ``/postback``) on the app server's event loop.

- ``edge``: the app server's entry point (ASGI and RSGI); read its docstring to follow a click
  from the socket to its row in PostgreSQL. ``blocking``: its thread pool for the rare blocking
  steps. ``aio_redis`` and ``loop_batch``: the clicks of one loop iteration share one Redis
  command.
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
- ``spool``: the fsync'ed local file of last resort (replayed by ``writer.spool_replay``).
- ``handler``: the request -> response steps the edge awaits around its writes.
- ``lines``: the record and its stream line (the bottom module: it imports none of the others).
"""
