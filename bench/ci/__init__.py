"""The CI regression check and its synthetic candidate."""
