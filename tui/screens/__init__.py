"""Screens of the chat app, one stylesheet (`<name>.tcss`) beside each."""
