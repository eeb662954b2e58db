select order_id::bigint, returned_on::date, reason::text, amount_eur::numeric from {{ ref('raw_returns') }}
