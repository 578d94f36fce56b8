"""The benchmark's outside reference: the VAE step of bench/vae-step.ts in plain PyTorch.

Same network (784-400-50 softplus MLPs, PyTorch's default init), same loss (Bernoulli on
logits, Monte Carlo KL, softplus scale + 1e-4, mean over the batch), Adam 1e-3, batch 128,
one particle, the loss read back every step as `svi.step` does. Optional: it needs
PyTorch (`apt-get install -y python3-torch` gives Debian's PyTorch 1.13 on the system
OpenBLAS, the version the speed issue's reference figures used) and runs only when asked:

    /usr/bin/python3 bench/pytorch-vae.py --steps 300 --threads 1

Prints one JSON line: {"medianMs", "p10Ms", "p90Ms", "steps", "threads", "torch", "data"}.
With --serve (what `npm run bench` uses, to interleave it with tfppl's rounds) it prints
{"ready": true, "torch", "data"} after the warm-up, then for every line n it reads runs n
steps and prints {"ms": [...]}.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

ARGS = argparse.ArgumentParser()
ARGS.add_argument('--steps', type=int, default=300)
ARGS.add_argument('--warmup', type=int, default=10)
ARGS.add_argument('--threads', type=int, default=1)
ARGS.add_argument('--serve', action='store_true')
ARGS = ARGS.parse_args()
# BLAS threads are fixed before torch loads OpenBLAS.
os.environ['OPENBLAS_NUM_THREADS'] = str(ARGS.threads)
os.environ['OMP_NUM_THREADS'] = str(ARGS.threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

FASHION = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'


def images(count):
    """The first `count` Fashion-MNIST training images binarised at 0.5, or random bits without it."""
    if os.path.exists(FASHION):
        with gzip.open(FASHION, 'rb') as f:
            raw = f.read()
        pixels = torch.frombuffer(bytearray(raw[16:16 + count * 784]), dtype=torch.uint8)
        return (pixels.reshape(count, 784).float() / 255 > 0.5).float(), 'fashion-mnist'
    return (torch.rand(count, 784) > 0.5).float(), 'random bits'


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Softplus())
    return torch.nn.Sequential(*layers)


def main(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    z_dim, batch = 50, 128
    encoder, decoder = mlp([784, 400, 2 * z_dim]), mlp([z_dim, 400, 784])
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=1e-3)
    data, source = images(16 * batch)
    half_log_2pi = 0.5 * math.log(2 * math.pi)

    def step(x):
        loc, raw = encoder(x).split(z_dim, dim=-1)
        scale = F.softplus(raw) + 1e-4
        eps = torch.randn_like(loc)
        z = loc + scale * eps
        logits = decoder(z)
        log_lik = -F.binary_cross_entropy_with_logits(logits, x, reduction='sum')
        log_prior = (-0.5 * z * z - half_log_2pi).sum()
        log_q = (-0.5 * eps * eps - scale.log() - half_log_2pi).sum()
        loss = -(log_lik + log_prior - log_q) / batch
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    done = 0

    def run(n):
        nonlocal done
        times = []
        for _ in range(n):
            x = data[(done % 16) * batch:(done % 16 + 1) * batch]
            t0 = time.perf_counter()
            loss = step(x)
            times.append((time.perf_counter() - t0) * 1000)
            done += 1
            if not math.isfinite(loss):
                raise SystemExit(f'pytorch-vae: non-finite loss {loss}')
        return times

    run(args.warmup)
    if args.serve:
        print(json.dumps({'ready': True, 'torch': torch.__version__, 'data': source}), flush=True)
        for line in sys.stdin:
            print(json.dumps({'ms': [round(t, 4) for t in run(int(line))]}), flush=True)
        return
    times = sorted(run(args.steps))
    pick = lambda q: round(times[int(q * (len(times) - 1))], 3)
    print(json.dumps({'medianMs': pick(0.5), 'p10Ms': pick(0.1), 'p90Ms': pick(0.9), 'steps': args.steps,
                      'threads': args.threads, 'torch': torch.__version__, 'data': source}))


if __name__ == '__main__':
    main(ARGS)
