"Run under torchrun: one training step of every method with its batch split over the ranks, against the same step in one process."
import copy, json, os, sys
import torch
from cmwb.bench import reference_method
from cmwb.parallel import Shards, leave_group
from cmwb.train import ALL_METHODS

def step(meth, batches, dp):
    "One trainer step on `batches` (one per stage, as `Session.train_batch` does it); return the gradients and the batch sizes the linear layers saw."
    # eps=1e-3: AdamW's first step moves each weight by lr·g/(|g|+eps); with the default 1e-8 a gradient of 1e-7 moves
    # it by ~lr whatever its rounding, so 1e-8 differences in partial sums became 1e-4 differences in the state
    opt, seen = torch.optim.AdamW(meth.trainable(), lr=1e-2, eps=1e-3), set()
    hooks = [m.register_forward_pre_hook(lambda mod, args: seen.add(args[0].shape[0])) for m in meth.modules() if isinstance(m, torch.nn.Linear)]
    torch.manual_seed(1)                                        # same draws (ER replay, CMA context) in both runs
    with dp.sharding(): loss = sum(sum(meth.training_step(b, 2).values()) for b in batches)
    for h in hooks: h.remove()
    loss.backward(); dp.sync_grads(meth.trainable()); meth.after_backward(2)
    grads = {n: p.grad.clone() for n, p in meth.named_parameters() if p.grad is not None}
    torch.nn.utils.clip_grad_norm_(meth.trainable(), 1.0); opt.step(); dp.sync_buffers(meth)
    return grads, seen

dp, out = Shards.from_env(), {}
for name in ALL_METHODS:
    torch.manual_seed(0); meth, batch, _ = reference_method(name, B=13, T=3, D=16, W=16, codes=24)   # 13 items: uneven slices
    one = copy.deepcopy(meth)
    (g_one, _), (g_dp, seen) = step(one, [batch], Shards()), step(meth, [batch], dp)
    s_one, s_dp = one.state_dict(), meth.state_dict()
    dp.check_in_sync(lambda: meth.get_state()[0], name)                # every rank holds the same state (raises otherwise)
    out[name] = dict(sliced=7 in seen, grads=sorted(g_one) == sorted(g_dp), grad_err=max(float((g_one[k] - g_dp[k]).abs().max()) for k in g_one),
                     grad_scale=max(float(g.abs().max()) for g in g_one.values()),
                     state_err=max(float((s_one[k].float() - s_dp[k].float()).abs().max()) for k in s_one))
    if meth.sees_all_data:
        # beside the batch, an earlier stage's batch of one pair: rank 1's shard of it is empty
        early = {k: v[:1] for k, v in batch.items()}
        meth.zero_grad(set_to_none=True)                       # `step` leaves the gradients it returned in place
        one = copy.deepcopy(meth)
        (g_one, _), (g_dp, _) = step(one, [batch, early], Shards()), step(meth, [batch, early], dp)
        out[name]['one_item_err'] = max(float((g_one[k] - g_dp[k]).abs().max()) for k in g_one)
if dp.lead: print('RESULT ' + json.dumps(out))
# gloo's worker thread frees each collective's tensors after the collective: without a barrier the last all-gather's
# were sometimes freed while the interpreter was finalizing, which aborts ("terminate called without an active
# exception", 3 of 10 runs). `leave_group` waits at one (its work comes after them on that thread), then leaves.
leave_group()
# and still, rarely (1 of about 40 CI runs), a gloo thread outlives the process group and aborts the interpreter's
# finalization the same way, after every figure above is printed: leave without finalizing (the figures are flushed)
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
