"""Species from the researcher's own examples: class sets of embedding vectors and the nearest
class-centroid classifier over them."""
