"""Reading planners' files: layers and tables, the values in their cells, validation and
georeferencing, OSM files; ``load`` gives every layer validated and projected."""
