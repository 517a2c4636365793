"""In-memory implementations of the flows' ports, all on one shared World."""
