"""HTTP views of a worker: health, Prometheus metrics, and stock answers."""
