"""hasivu_compute.sdk."""
