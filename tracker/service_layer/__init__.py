"""Service layer: commands, their handlers and the message bus."""
