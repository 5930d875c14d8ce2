"""Function-based views, one module per area: streams, actions, recordings, audit, health."""
