"""The runtime: the Faust app and what hardens it for Omnistream's stages.

Settings, the business clock and the Faust app with its channels (`runtime.app`); the stages'
sources, read in batches beside Faust and owned as Faust assigns the tables (`source`), with the
batch's view of a table (`batch`) and the offset-hole counter (`offsets`); the consumer fixes
for rebalances (`consumer_fixes`); dead letters; acknowledged ledger entries (`ledger_acks`);
HTTP callers waiting for a stage's answer (`replies`); lags of the consumers beside Faust's
(`lags`). It imports nothing above it: agents, tables and views import it, and app.py composes
them. See docs/architecture.md.
"""
