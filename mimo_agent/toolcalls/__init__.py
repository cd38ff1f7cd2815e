"""Tool-calling layer: one tool definition → prompt rendering, grammar, parser, validation, repair, feedback.

Works without the agent loop: it takes model text (or a stream of it) and tool definitions and gives
typed, validated calls or precise errors.
"""
