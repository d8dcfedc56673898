-- One row per price book record (pricing.book-entries; the same events on pricing.changes): the
-- record whole, as JSON, so a replay (python -m analytics.promotion_backtest) rebuilds the book
-- that priced the baskets. The readable projections are fct_price_changes, fct_promotion_versions
-- and fct_product_descriptions.
create table if not exists fct_book_entries (
    event_id      varchar not null primary key,
    entry_type    varchar not null,     -- price.changed, product.described, promotion.defined, promotion_group.defined
    book_key      varchar not null,     -- the compacted key (streams.pricing.book_key)
    payload       varchar not null,     -- the event as JSON
    occurred_at   timestamptz not null,
    projected_at  timestamptz not null
);
