"""FastDining API: restaurant recommendations, instrumented for Prometheus."""
