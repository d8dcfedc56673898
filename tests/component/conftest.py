"""Agents under Faust's test context: memory store, no broker."""

from __future__ import annotations

import os

os.environ.setdefault("OMNI_STORE", "memory://")

# Agents import the runtime, never app.py (the composition root), so a test imports just the
# agent it tests; the store must be chosen before the runtime builds the app.
