"""Faust agents: thin adapters that decode, load state, decide, save and send."""
