"""Prefect tasks: the units of work the flows compose. Each opens its own unit of work on one shard."""
