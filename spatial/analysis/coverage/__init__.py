"""Coverage of the 15-minute life circle and the service areas."""
