"""The project file and the standards: settings' types, defaults and ranges, categories and
radii, capacity indicators, co-location rules."""
