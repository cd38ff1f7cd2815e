"""Embedded inference engine for the MiMo-V2 architecture (imported as `mimo_agent.engine`).

The engine imports nothing from the agent side: grammar masks arrive as logits processors.
"""
