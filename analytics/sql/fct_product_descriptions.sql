-- One row per product description in the price book (pricing.book-entries, ProductDescribed):
-- a SKU's category, which category conditions of promotions match, and whether it is promotable.
create table if not exists fct_product_descriptions (
    event_id      varchar not null primary key,
    sku           varchar not null,
    category      varchar not null,
    promotable    boolean not null,
    occurred_at   timestamptz not null,
    projected_at  timestamptz not null
);
