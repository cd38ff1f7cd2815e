"""SWE-bench-style evaluation without Docker: datasets, per-instance environments from specs, grading.

The pipeline mirrors the official harness (instance → environment → patch → eval script → log →
parser → report) so its outputs read like the official ones, but environments are local venvs built
from a `--specs` file instead of Docker images. Grading rules and log parsers come from the `swebench`
package itself, so a local verdict means what an official one means.
"""
