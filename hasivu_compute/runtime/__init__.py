"""hasivu_compute.runtime."""
