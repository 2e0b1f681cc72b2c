"""Table schema with stable column ids, partition specs, classification tags."""
