"""mimo-agent: a dependable terminal coding agent around Xiaomi's MiMo-V2-Flash."""

__version__ = "0.1.0"
