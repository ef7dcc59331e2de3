"""The wire contract shared by gateway, tracker and device_sim: topics and payload models."""
