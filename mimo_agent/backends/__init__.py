"""Model backends behind one protocol (base.py): embedded engine, transformers, OpenAI-compatible, replay."""
