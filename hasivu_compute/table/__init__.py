"""Tables: snapshots, manifests, commits, time travel, schema evolution, maintenance."""
