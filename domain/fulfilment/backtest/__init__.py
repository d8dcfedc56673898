"""The backtest: a simulated month replayed under two sourcing profiles, side by side."""
