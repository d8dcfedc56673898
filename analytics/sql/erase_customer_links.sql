-- After each batch: a merge of an erased customer (or of one erased with it) keeps both customer
-- ids, not the hashed identifier both claimed.
update fct_customer_merges as m
set identifier = null
where m.identifier is not null
  and exists (
      select 1
      from fct_customer_erasures as e
      where e.customer_id in (m.merged, m.survivor)
         or list_contains(e.linked, m.merged)
         or list_contains(e.linked, m.survivor)
  );
