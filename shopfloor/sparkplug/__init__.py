"""Eclipse Sparkplug B 3.0: the protobuf payload, topic names and value codecs, shared."""
