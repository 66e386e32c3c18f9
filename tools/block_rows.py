"""How long a method's training step takes with `soft_codes` working on blocks of each height (rows of distances).
    python tools/block_rows.py METHOD [ROWS ...]          (default: 256 512 1024 1280 2560)
Builds `cmwb bench`'s reference method and batch (batch 256, T=10, width 256, 4,096 codes, the last of three stages)
and times its full training step with every block height in turn, interleaved, six rounds, fastest kept, beside the
bench's bare step; prints milliseconds and the ratio to the bare step. How `cmwb.losses.BLOCK_ROWS` was chosen
(`nbs/06_losses.ipynb`). Run it on a quiet machine: the figures are times."""
import sys, time
import cmwb.losses
from cmwb.bench import reference_steps
from cmwb.core import reuse_freed_memory

def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith('-'):
        raise SystemExit(__doc__)
    name, heights = sys.argv[1], [int(r) for r in sys.argv[2:]] or [256, 512, 1024, 1280, 2560]
    reuse_freed_memory()                                   # as training and the bench do
    _, full, bare, _ = reference_steps(name)
    best, bare_best = {r: float('inf') for r in heights}, float('inf')
    for _ in range(6):
        for r in heights:
            cmwb.losses.BLOCK_ROWS = r                     # every soft_codes call without rows=, this height
            full()                                         # warm: the first step at a height allocates its blocks
            t = time.perf_counter()
            full()
            best[r] = min(best[r], time.perf_counter() - t)
        t = time.perf_counter()
        bare()
        bare_best = min(bare_best, time.perf_counter() - t)
    print(f"{name}: bare step {bare_best * 1e3:.1f} ms")
    for r in heights:
        print(f"  blocks of {r:>5} rows: {best[r] * 1e3:6.1f} ms, {best[r] / bare_best:.3f} of the bare step")

if __name__ == '__main__':
    main()
