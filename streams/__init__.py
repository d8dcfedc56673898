"""The contract: every topic, every event model, the codec and dead letters."""
