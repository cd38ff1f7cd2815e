"""The demo model's training data (issue 9, items 2-3): expert trajectories and the tokenizer.

`generate_trajectories(tasks_dir, out_path)` solves a generated task split with a scripted expert
through the real agent loop and writes the resolved conversations with their chat-template text and
assistant spans; `train_tokenizer(...)` builds the small byte-level BPE tokenizer the model uses.
"""
