"""Changelog-backed Faust tables, one module each, behind typed get/put helpers."""
