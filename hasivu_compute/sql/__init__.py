"""hasivu_compute.sql."""
