"""Coding tools the agent calls (imported as `mimo_agent.tools`); leaves that import no agent code."""
