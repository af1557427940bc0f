"""Facts about a machine, one module per source; a probe returns facts or "unknown", never raises."""
