"""Agents under Faust's test context: memory store, no broker."""

from __future__ import annotations

import os

os.environ.setdefault("OMNI_STORE", "memory://")
