"""Feature modules: each is controller (HTTP) → service (logic) → repository (data)."""
