"""Central pricing and promotions: the price book, the pricing function, budgets, settlement. Pure."""
