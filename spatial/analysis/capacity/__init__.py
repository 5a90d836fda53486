"""Supply and demand (2SFCA) and facility sizes from the shortfall."""
