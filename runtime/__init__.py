"""The runtime: the Faust app and what hardens it for Omnistream's stages.

Settings, the business clock and the Faust app with its channels (`runtime.app`); the stage
loop that re-reads records Faust jumped over (`stage`, `refetch`, `offsets`); the consumer
fixes for rebalances (`consumer_fixes`); dead letters; acknowledged ledger entries
(`ledger_acks`); HTTP callers waiting for a stage's answer (`replies`). It imports nothing
above it: agents, tables and views import it, and app.py composes them.
"""
