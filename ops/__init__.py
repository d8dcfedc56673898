"""Operability shared by every process: logging, metrics, health."""
