"""The GeoPackage for QGIS and ArcGIS: its layers' styles, field titles and QGIS project."""
