"""Policy rules: condition validation (``conditions``), fact normalisation (``normalise``) and the
durable_rules wrapper (``engine``, the only module that imports durable_rules; import it explicitly:
this package does not, so the pure modules stay importable without the C extension)."""
