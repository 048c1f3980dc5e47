"""Publisher postbacks (contract section 5): templates and macros, the SSRF-safe HTTP client,
firing and delivery services, Celery tasks, and the API."""
