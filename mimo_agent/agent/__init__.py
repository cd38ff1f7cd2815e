"""The agent loop: query the backend, parse and repair calls, check permissions, run tools, observe.

It knows no screen: everything it does is reported as typed events (events.py) to whoever drives it
(the headless CLI, the TUI, the SWE-bench harness).
"""
