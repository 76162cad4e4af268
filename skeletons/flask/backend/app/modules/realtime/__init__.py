"""Real time: WebSocket feeds of item changes, fanned out in process or through Redis."""
