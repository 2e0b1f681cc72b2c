"""hasivu_compute.exec."""
