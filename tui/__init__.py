"""Textual terminal UI (imported as `mimo_agent.tui`)."""
