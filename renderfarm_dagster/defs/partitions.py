"""Products are dynamic partitions: one per product_id, added as specs arrive."""

import dagster as dg

products = dg.DynamicPartitionsDefinition(name="products")
