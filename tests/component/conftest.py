"""Agents under Faust's test context: memory store, no broker."""

from __future__ import annotations

import os

os.environ.setdefault("OMNI_STORE", "memory://")

# The app module imports every agent at its end; importing an agent module first would enter
# that chain half-way (agents import each other's helpers), so load the app first, as a worker does.
import app  # noqa: E402, F401
