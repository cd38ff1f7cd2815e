"""Widgets of the chat screen; each renders state it is given and never calls the agent."""
