"""Flow-level journeys on the fast client: the real engine on in-memory ports, no database."""
