"""A deterministic retail network simulator: one seeded day of events on the ingest topics."""

from sim.config import SimConfig
from sim.publish import generate, run
from sim.report import LineTotals, Report

__all__ = ["LineTotals", "Report", "SimConfig", "generate", "run"]
