"""Give the heap memory freed by a band sweep back to the operating system.

glibc's malloc keeps what a sweep's arrays free (hop spectra, FFT scratch, detector blocks, evidence plots) for
reuse; with the mix of sizes one sweep allocates the heap fragments, and the station's RSS creeps up sweep after
sweep although its live memory stays flat (the demo, 5 sweeps per band: 313-315 MB peak without trimming, ~296
MB with it; after 8 sweeps ``malloc_trim`` handed back 48 MB). ``malloc_trim(0)`` returns the free pages: about
1 ms per band sweep. Where the C library has no ``malloc_trim`` (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes

_trim = None
_resolved = False


def trim_heap() -> bool:
    """Return free heap pages to the OS (glibc ``malloc_trim(0)``). True when memory was released; False when
    nothing was, or the C library cannot (resolved on the first call, not at import)."""
    global _trim, _resolved
    if not _resolved:
        _resolved = True
        try:
            fn = ctypes.CDLL(None).malloc_trim  # the C library the interpreter is linked with
            fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            _trim = fn
        except (OSError, AttributeError):
            _trim = None
    return bool(_trim(0)) if _trim is not None else False


#: arrays from this size up get their own mapping, returned to the OS when freed (glibc M_MMAP_THRESHOLD)
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt parameter number (glibc malloc.h)


def fix_mmap_threshold(nbytes: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold at ``nbytes`` for the process's life. glibc raises it (up to 32 MB) each time
    a mapped block is freed, after which the large arrays of a sweep (the simulator's 16 MB noise-table scratch,
    a second of evidence IQ) come from the heap, fragment it, and stay resident: the station's peak RSS drifted
    25-35 MB above what it holds (the demo: 343-352 MB peak, 316-336 MB with the threshold fixed, same
    machine). Freed blocks of ``nbytes`` and more go back to the OS at once. True when set; False where the C
    library has no ``mallopt`` (musl, macOS)."""
    try:
        fn = ctypes.CDLL(None).mallopt
        fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    except (OSError, AttributeError):
        return False
    return bool(fn(_M_MMAP_THRESHOLD, int(nbytes)))
