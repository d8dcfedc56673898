"""Fulfilment orchestration, pure: the network as data, capacity slots, sourcing, balancing."""
