"""A client's strategy: its configuration, segmentation, scoring and champion/challenger variants."""
