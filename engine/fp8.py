"""Block-scaled FP8 (e4m3) weights as the published MiMo-V2-Flash checkpoint stores them.

A weight `W` [rows, cols] is stored as `q` (float8_e4m3fn) plus a float32 grid `S` ("weight_scale_inv",
a multiplier despite its name) with one entry per (b0 × b1) block, edge blocks partial:
W[r, c] = q[r, c] · S[r // b0, c // b1], S of shape [ceil(rows / b0), ceil(cols / b1)].

Some tensors are quantised in independent row *segments* (each segment starting a fresh block grid): the
GA-layer k_proj of the published checkpoint reportedly has 8 scale rows for 768 rows, i.e. each 192-row
head quantised on its own (a 128-row block + a 64-row block). Stacking per-expert gate and up rows also
gives two segments when the expert size is not a multiple of b0. `segment_rows` describes both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

ScaleRowRule = Literal["segmented", "transformers"]


@dataclass(frozen=True, slots=True, eq=False)  # tensors have no single truth value
class Fp8Weight:
    """An FP8 weight kept quantised in memory; `dequantize` gives the real weight when a layer needs it.

    `weight` is [..., rows, cols] torch.float8_e4m3fn; `scale_inv` is float32 [..., n_seg · ceil(seg / b0),
    ceil(cols / b1)] where rows = n_seg · seg and seg = `segment_rows` (None: one segment of all rows).
    """

    weight: torch.Tensor
    scale_inv: torch.Tensor
    block: tuple[int, int]
    segment_rows: int | None = None

    def __repr__(self) -> str:
        shape, grid = list(self.weight.shape), list(self.scale_inv.shape)
        return f"Fp8Weight(shape={shape}, scale_grid={grid}, block={self.block}, segment_rows={self.segment_rows})"

    @property
    def shape(self) -> torch.Size:
        return self.weight.shape

    def dequantize(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return dequantize(self.weight, self.scale_inv, self.block, self.segment_rows, dtype)

    def select(self, index: torch.Tensor) -> Fp8Weight:
        """Rows of the leading (expert) dim, still quantised: dequantise only the experts a token chose."""
        assert self.weight.dim() == 3, self.weight.shape
        return Fp8Weight(self.weight[index], self.scale_inv[index], self.block, self.segment_rows)


def scale_grid_shape(
    rows: int, cols: int, block: tuple[int, int], segment_rows: int | None = None
) -> tuple[int, int]:
    """The scale grid [scale_rows, scale_cols] a (segmented) block quantisation of rows × cols produces."""
    seg = segment_rows or rows
    assert rows % seg == 0, (rows, seg)
    return (rows // seg) * math.ceil(seg / block[0]), math.ceil(cols / block[1])


def dequantize(
    q: torch.Tensor,
    scale_inv: torch.Tensor,
    block: tuple[int, int],
    segment_rows: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """W = q · S broadcast over blocks (computed in fp32, then cast), for any leading batch dims."""
    rows, cols = q.shape[-2:]
    seg = segment_rows or rows
    grid = scale_grid_shape(rows, cols, block, seg)
    assert scale_inv.shape[-2:] == grid, (scale_inv.shape, q.shape, block, seg)
    r = torch.arange(rows, device=q.device)
    # (rows,) the scale row of each weight row: segment start + block within the segment
    row_index = (r // seg) * math.ceil(seg / block[0]) + (r % seg) // block[0]
    col_index = torch.arange(cols, device=q.device) // block[1]  # (cols,) scale column of each column
    scales = scale_inv.float().index_select(-2, row_index).index_select(-1, col_index)  # (..., rows, cols)
    return (q.float() * scales).to(dtype)


def resolve_segment_rows(
    rows: int, cols: int, scale_shape: tuple[int, ...], block: tuple[int, int], rule: ScaleRowRule
) -> tuple[tuple[int, int], int | None] | None:
    """Find how a 2-D scale grid covers the weight: returns (block, segment_rows), or None if no rule fits.

    A grid of [ceil(rows/b0), ceil(cols/b1)] is the plain layout. Otherwise (only the row count may differ):
    - "segmented" (default; the per-head quantisation of the published GA k_proj): rows are cut into equal
      segments of `seg` rows, each with its own ceil(seg/b0) block rows; seg must be the single divisor of
      rows with b0 < seg and n_seg · ceil(seg/b0) == scale rows, and not a multiple of b0.
    - "transformers": what transformers' CPU dequantiser does, uniform blocks of rows / scale_rows rows.
    """
    scale_rows, scale_cols = scale_shape
    if scale_cols != math.ceil(cols / block[1]):
        return None
    if scale_rows == math.ceil(rows / block[0]):
        return block, None
    if rule == "transformers":
        return ((rows // scale_rows, block[1]), None) if scale_rows and rows % scale_rows == 0 else None
    fits = [
        seg
        for seg in range(block[0] + 1, rows)
        if rows % seg == 0 and seg % block[0] and (rows // seg) * math.ceil(seg / block[0]) == scale_rows
    ]
    return (block, fits[0]) if len(fits) == 1 else None
