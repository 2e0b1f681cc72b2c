"""hasivu_compute.plan."""
