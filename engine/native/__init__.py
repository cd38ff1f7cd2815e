"""Native CPU kernels, compiled on first use with the machine's C compiler and cached.

`kernels.c`: few-row matmuls (decode steps, MTP verification) that MKL streams slowly, attention for
a few queries, a whole attention block (projections, rotary, cache write, attention, o_proj), the MoE
block, RMSNorm: each replaces a dozen small torch ops whose dispatch costs more than their arithmetic
at batch one. No compiler, a failed build or `MIMO_AGENT_NATIVE=0` simply leave
`library()` returning None, and callers use torch (`ops.py`); results differ only in float rounding.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import stat
import subprocess
import tempfile
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("kernels.c")
FLAGS = ["-O3", "-march=native", "-fopenmp", "-shared", "-fPIC"]
LIBS = ["-lm"]
BUILD_TIMEOUT_S = 120


def cache_dir() -> Path:
    """`$MIMO_AGENT_NATIVE_DIR`, else `$XDG_CACHE_HOME/mimo-agent/native` (default `~/.cache`)."""
    if explicit := os.environ.get("MIMO_AGENT_NATIVE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mimo-agent" / "native"


def _cpu_flags() -> str:
    """The CPU's feature flags: a library built with -march=native must not run on another CPU."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def _private(path: Path) -> bool:
    """Owned by this user, not a symlink, writable by nobody else: a library loaded from a folder
    others can write to would run their code."""
    info = path.lstat()
    return not stat.S_ISLNK(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _build(compiler: str, target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        built = Path(scratch) / target.name
        subprocess.run(
            [compiler, *FLAGS, str(SOURCE), "-o", str(built), *LIBS],
            check=True,
            capture_output=True,
            timeout=BUILD_TIMEOUT_S,
        )
        os.replace(built, target)  # atomic: concurrent builders each rename a whole file


@cache
def library() -> ctypes.CDLL | None:
    """The compiled kernels, or None when they cannot be had here (logged once)."""
    if os.environ.get("MIMO_AGENT_NATIVE", "1") == "0":
        return None
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        log.info("no C compiler found: native CPU kernels off")
        return None
    try:
        key = hashlib.sha256(
            "\0".join(
                [SOURCE.read_text(), compiler, *FLAGS, *LIBS, platform.machine(), _cpu_flags()]
            ).encode()
        ).hexdigest()[:16]
        target = cache_dir() / f"kernels-{key}.so"
        if not target.is_file():
            _build(compiler, target)
        if not (_private(target.parent) and _private(target)):
            log.warning("native CPU kernels off: %s is writable by others or not ours", target)
            return None
        lib = ctypes.CDLL(str(target))
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:  # RuntimeError: no home folder
        log.info("native CPU kernels off: %s", exc)
        return None
    ptr, long, i32, f32 = ctypes.c_void_p, ctypes.c_long, ctypes.c_int, ctypes.c_float
    lib.small_m_linear.argtypes = [ptr, ptr, ptr, long, long, long, i32]
    lib.small_m_linear.restype = i32
    lib.small_m_linear_bf16.argtypes = lib.small_m_linear.argtypes
    lib.small_m_linear_bf16.restype = i32
    lib.small_m_linear_i8.argtypes = lib.small_m_linear.argtypes
    lib.small_m_linear_i8.restype = i32
    lib.few_query_attention.argtypes = [ptr, ptr, long, ptr, long, ptr, ptr, *[long] * 8, ptr, f32, i32]
    lib.few_query_attention.restype = i32
    lib.attention_step.argtypes = [
        ptr, long, long, ptr, ptr, i32, ptr, ptr, long, ptr, ptr, long, long, ptr, *[long] * 7, ptr, f32, f32,
        ptr, i32,
    ]  # fmt: skip
    lib.attention_step.restype = i32
    lib.moe_few.argtypes = [ptr, long, long, ptr, ptr, long, long, i32, f32, ptr, ptr, i32, long, ptr, i32]
    lib.moe_few.restype = i32
    lib.rms_norm.argtypes = [ptr, ptr, ptr, long, long, f32]
    lib.rms_norm.restype = None
    return lib
