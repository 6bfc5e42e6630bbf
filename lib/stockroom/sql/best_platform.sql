-- Where to sell each item on one market day (stockroom.market.views.best_platform): every
-- platform's net at its lowest ask after the fees of its price tier (stockroom.market.fees:
-- tiers of that day written out by tier_sql and net_sql), then the highest net wins unless a
-- platform within the tie share of it sells more (sales_30d).
-- Filled in by Python: the day's market rows, the platforms that sell nothing (price guides),
-- the tier and net expressions, and the tie share.
WITH m AS (
    SELECT m.sku, m.platform, m.lowest_ask, m.sales_30d, m.volatility, m.currency,
           p.category,
           {tier} AS _tier
    FROM {rows} m LEFT JOIN (SELECT sku, category FROM products) p USING (sku)
    WHERE m.lowest_ask IS NOT NULL AND m.platform NOT IN ({guides})
), netted AS (
    SELECT *, round({net}, 2) AS net FROM m
), topped AS (
    SELECT *, max(net) OVER (PARTITION BY sku) AS _top FROM netted
), keyed AS (
    -- the order of preference: tied with the top net first, then sales, then net
    SELECT *, [(net >= _top * (1 - {tie}))::INT, sales_30d, net] AS _key FROM topped
), 
grouped AS (
    SELECT sku,
           arg_max({{'platform': platform, 'net': net, 'lowest_ask': lowest_ask,
                     'currency': currency, 'sales_30d': sales_30d, 'volatility': volatility,
                     'category': category}}, _key) AS best,
           max_by({{'platform': platform, 'net': net}}, _key, 2) AS top2,
           count(*)::UINTEGER AS platforms,
           max(_top) AS _top,
           arg_max(sales_30d, net) AS _top_sales,
           count(*) FILTER (net IS NULL) AS _uncovered,
           count(DISTINCT currency) AS _currencies
    FROM keyed
    GROUP BY sku
)
-- names joined on the one row per item that is left, not on every platform's row
SELECT sku, coalesce(n.title, sku) AS title, n.brand, best.category,
       best.platform AS best_platform, best.net, best.lowest_ask, best.currency, best.sales_30d, best.volatility,
       top2[2].platform AS runner_up, top2[2].net AS runner_up_net,
       platforms, _top, _top_sales, _uncovered, _currencies
FROM grouped LEFT JOIN (SELECT sku, title, brand FROM products) n USING (sku)
