"""hasivu_compute.cli."""
