"""Block indexes: zone maps (min/max/null count) and bloom filters."""
