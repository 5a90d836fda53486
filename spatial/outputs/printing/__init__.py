"""The print pack: the layout both backends draw (a map's extent, scale bar, north arrow), the
matplotlib and fpdf2 primitives, bundle sheets, raster streets, the overview."""
