"""The interactive HTML maps: Leaflet primitives, the page's data store, the overlay
layers, the map contents and the files; ``maps.js`` is the page's script."""
