"""Where a method's training step spends its time beyond the bare forward + backward that `cmwb bench` compares it with.
    python tools/profile_step.py METHOD [--rows N] [--reference bare|code_probs]
Builds `cmwb bench`'s reference method and batch (batch 256, T=10, width 256, 4,096 codes, the last of three stages),
profiles three full training steps and three of the bench's bare steps (`cmwb.bench.bare_loss`; with `--reference
code_probs`, the bare step with CMCM's soft code assignment, the bench's second reference) with torch's profiler, and
prints, per operator and input shape, the milliseconds per step the full step spends beyond the reference (self CPU
time), largest first. Profiling slows every operator alike, so read the shares, not the totals; the bench's ratios are
measured without the profiler."""
import argparse
from torch.profiler import profile
from cmwb.core import reuse_freed_memory
from cmwb.bench import reference_steps

STEPS = 3

def per_step(step) -> dict:
    "(operator, input shapes) -> (self CPU ms per step, calls per step), over STEPS profiled calls after two warm-ups."
    for _ in range(2): step()
    with profile(record_shapes=True) as prof:
        for _ in range(STEPS): step()
    return {(e.key, str(e.input_shapes)): (e.self_cpu_time_total / 1e3 / STEPS, e.count / STEPS)
            for e in prof.key_averages(group_by_input_shape=True)}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('method')
    ap.add_argument('--rows', type=int, default=25, help='operators to print')
    ap.add_argument('--reference', choices=['bare', 'code_probs'], default='bare')
    a = ap.parse_args()
    reuse_freed_memory()                                   # as training and the bench do
    _, full, bare, _ = reference_steps(a.method)           # the bench's own steps (CMA attends to the partner)
    f, b = per_step(full), per_step(lambda: bare(code_probs=a.reference == 'code_probs'))
    total = lambda d: sum(ms for ms, _ in d.values())
    print(f"{a.method}: full step {total(f):.1f} ms, {a.reference} step {total(b):.1f} ms (profiled, per step)")
    print(f"{'beyond':>8}  {'full':>8} {'calls':>5}  {'ref':>8} {'calls':>5}  operator [input shapes]")
    extra = sorted(f.keys() | b.keys(), key=lambda k: -(f.get(k, (0, 0))[0] - b.get(k, (0, 0))[0]))
    for k in extra[:a.rows]:
        (fm, fc), (bm, bc) = f.get(k, (0, 0)), b.get(k, (0, 0))
        print(f"{fm - bm:8.2f}  {fm:8.2f} {fc:5.0f}  {bm:8.2f} {bc:5.0f}  {k[0]} {k[1][:100]}")

if __name__ == '__main__':
    main()
