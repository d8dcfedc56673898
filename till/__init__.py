"""The till library: keeps the latest price book from the compacted topic and prices offline, as the centre does."""
