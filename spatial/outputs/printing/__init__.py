"""The print pack: matplotlib and fpdf2 primitives, bundle sheets, raster streets, the
overview."""
