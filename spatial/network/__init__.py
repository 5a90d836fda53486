"""The walking network: reading it, its arrays and street matrix, snapping, access points of
polygons and the bounded Dijkstra passes that give network distances."""
