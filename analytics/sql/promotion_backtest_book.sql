-- The promotion backtest's price book: every book record the sink read, in the order it was
-- published, to be applied one by one (`domain.pricing.book.PriceBook.apply`).
select entry_type, payload from fct_book_entries order by occurred_at, event_id;
