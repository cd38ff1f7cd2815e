"""Memory and decode speed of FP8 weights kept resident (`keep_fp8=True`) vs dequantised at load.

Builds a tiny hub-layout checkpoint with 3 MTP layers and FP8 block scales (the test suite's checkpoint
writers, so run it from the repository root): `python -m mimo_agent.evals.bench_fp8`; prints JSON.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from mimo_agent.engine.engine import Engine
from mimo_agent.engine.sampling import SamplingParams
from tests.engine import checkpoint_writers as cw
from tests.engine.test_fp8_resident import resident_bytes
from tests.engine.tiny_models import save_tiny


def main() -> int:
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        save_tiny(root / "src", seed=0)
        hub = cw.to_hub_layout(root / "src", root / "hub", mtp_layers=3, seed=7)
        fp8 = cw.quantize_fp8(hub, root / "fp8", block=(16, 20))
        for dtype in (torch.float32, torch.bfloat16):
            engines = [
                Engine.from_pretrained(fp8, dtype=dtype, max_seq_len=256, keep_fp8=keep)
                for keep in (False, True)
            ]
            sizes = [resident_bytes(e.model, e.mtp) for e in engines]
            speeds = [
                e.complete(
                    list(range(3, 40)), params=SamplingParams(max_new_tokens=64), mtp_steps=0
                ).stats.tokens_per_second
                for e in engines
            ]
            rows.append(
                {
                    "dtype": str(dtype).removeprefix("torch."),
                    "resident_bytes_dequantised": sizes[0],
                    "resident_bytes_keep_fp8": sizes[1],
                    "ratio": round(sizes[1] / sizes[0], 3),
                    "decode_tokens_per_second_dequantised": round(speeds[0], 1),
                    "decode_tokens_per_second_keep_fp8": round(speeds[1], 1),
                }
            )
    print(
        json.dumps({"model": "tiny hub checkpoint, 3 MTP layers, FP8 blocks 16x20", "runs": rows}, indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
