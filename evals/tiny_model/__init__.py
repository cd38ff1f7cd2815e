"""The demo model's training data (issue 9, items 2-3): expert trajectories and the tokenizer.

`trajectories.generate_trajectories(tasks_dir, out_path)` solves a generated task split with a scripted
expert through the real agent loop and writes the resolved conversations with their chat-template text
and assistant spans; `tokenizer.train_tokenizer(texts)` builds the small byte-level BPE the model uses
(`make_tokenizer` trains, saves and measures it). Both have a `python -m` command line.
"""
