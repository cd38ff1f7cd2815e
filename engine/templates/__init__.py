"""Chat templates shipped with the engine, used when a checkpoint carries none of its own."""
