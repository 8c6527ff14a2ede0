"""Neural implicit 3D representations: signed distance and occupancy fields, rendering, meshes."""
