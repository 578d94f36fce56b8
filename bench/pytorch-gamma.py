"""The outside reference of bench/gamma.ts: reparameterised Gamma, Beta and Dirichlet draws with
gradient in plain PyTorch (torch.distributions, 1 thread).

Same parameters as bench/gamma.ts: 10^6 elements, concentration linspace(0.5, 5), rate
linspace(0.5, 2) (Gamma); concentration1 linspace(0.5, 5), concentration0 linspace(5, 0.5) (Beta);
concentration linspace(0.5, 5) reshaped to [10^5, 10] (Dirichlet). One repetition is
x = D(...).rsample(); x.sum().backward() (gradients w.r.t. every parameter, reset each time).

    /usr/bin/python3 bench/pytorch-gamma.py --reps 7

prints one JSON line {dist: {"medianMs", "ms": [...]}, "torch"}. With --serve (what
bench/gamma.ts uses, to interleave with tfppl's rounds) it prints {"ready": true, "torch"} after
a warm-up, then for every line "<dist> <n>" it reads runs n repetitions and prints {"ms": [...]}.
"""
import argparse
import json
import os
import sys
import time

ARGS = argparse.ArgumentParser()
ARGS.add_argument('--reps', type=int, default=7)
ARGS.add_argument('--warmup', type=int, default=2)
ARGS.add_argument('--threads', type=int, default=1)
ARGS.add_argument('--serve', action='store_true')
ARGS = ARGS.parse_args()
os.environ['OPENBLAS_NUM_THREADS'] = str(ARGS.threads)
os.environ['OMP_NUM_THREADS'] = str(ARGS.threads)

import torch  # noqa: E402
from torch.distributions import Beta, Dirichlet, Gamma  # noqa: E402

torch.set_num_threads(ARGS.threads)
torch.manual_seed(0)
N = 1_000_000


def param(lo, hi, shape=(N,)):
    return torch.linspace(lo, hi, N).reshape(shape).clone().requires_grad_(True)


PARAMS = {
    'gamma': [param(0.5, 5), param(0.5, 2)],
    'beta': [param(0.5, 5), param(5, 0.5)],
    'dirichlet': [param(0.5, 5, (N // 10, 10))],
}
MAKE = {'gamma': lambda p: Gamma(p[0], p[1]), 'beta': lambda p: Beta(p[0], p[1]), 'dirichlet': lambda p: Dirichlet(p[0])}


def rep(dist):
    ps = PARAMS[dist]
    for p in ps:
        p.grad = None
    t0 = time.perf_counter()
    x = MAKE[dist](ps).rsample()
    x.sum().backward()
    ms = (time.perf_counter() - t0) * 1000
    if not all(torch.isfinite(p.grad).all() for p in ps):
        raise RuntimeError(f'{dist}: non-finite gradient')
    return ms


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


for d in PARAMS:
    for _ in range(ARGS.warmup):
        rep(d)

if ARGS.serve:
    print(json.dumps({'ready': True, 'torch': torch.__version__}), flush=True)
    for line in sys.stdin:
        d, n = line.split()
        print(json.dumps({'ms': [rep(d) for _ in range(int(n))]}), flush=True)
else:
    out = {'torch': torch.__version__}
    for d in PARAMS:
        ms = [rep(d) for _ in range(ARGS.reps)]
        out[d] = {'medianMs': median(ms), 'ms': ms}
    print(json.dumps(out))
