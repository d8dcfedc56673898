-- One row per proposed store-to-store transfer (inventory.transfer-suggestions), with the days
-- of cover and sales rates behind it on both sides.
create table if not exists fct_transfer_suggestions (
    suggestion_id           varchar not null primary key,
    sku                     varchar not null,
    from_node               varchar not null,
    to_node                 varchar not null,
    quantity                integer not null,
    from_on_hand            bigint not null,
    to_on_hand              bigint not null,
    from_daily_sales        double not null,
    to_daily_sales          double not null,
    from_cover_days_before  double not null,
    from_cover_days_after   double not null,
    to_cover_days_before    double not null,
    to_cover_days_after     double not null,
    as_of                   timestamptz not null,   -- the stock and sales it was computed from
    reason                  varchar not null,
    event_id                varchar not null,
    occurred_at             timestamptz not null,
    projected_at            timestamptz not null
);
