-- One row per till line charged other than the centre's re-price (pricing.variances,
-- PricingVariance), with the book versions on both sides and the cause.
create table if not exists fct_pricing_variances (
    event_id                   varchar not null primary key,
    receipt_id                 varchar not null,
    store                      varchar not null,
    terminal_id                varchar,
    cashier_id                 varchar,
    line_no                    integer not null,
    sku                        varchar not null,
    quantity                   integer not null,
    charged_cents              bigint not null,    -- the line's net as charged
    expected_cents             bigint not null,    -- the line's net as the centre prices it
    variance_cents             bigint not null,    -- < 0: the customer paid less
    charged_unit_price_cents   bigint not null,
    expected_unit_price_cents  bigint not null,
    till_snapshot_version      bigint,             -- null: the sale carried no stamp
    centre_snapshot_version    bigint not null,
    cause                      varchar not null,   -- price_override, stale_snapshot, unstamped, unexplained
    occurred_at                timestamptz not null,
    projected_at               timestamptz not null
);
