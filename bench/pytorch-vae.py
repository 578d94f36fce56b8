"""The benchmark's outside reference: the training steps of `npm run bench` in plain PyTorch.

Three models, each the twin of a tfppl step (same layers, same loss, same optimiser: Adam 1e-3,
batch 128, Fashion-MNIST binarised at 0.5, one particle, the loss read back every step as
`svi.step` does):

  mlp-vae   VAE 784-400-50 softplus MLPs (PyTorch's default init), Bernoulli on logits, Monte
            Carlo KL, softplus scale + 1e-4, mean over the batch (bench/vae-step.ts's network).
  conv-vae  tfppl's `vae({ conv: true, zDim: 16 })`: convEncoder = 3×3 stride-2 convs to 32 and 64
            channels (ReLU), dense 3136 → 2·16; convDecoder = dense 16 → 3136 (ReLU), 3×3 stride-2
            transposed convs to 32 (ReLU) and 1 channel; Bernoulli on logits; softplus scale + 1e-4.
  vq-vae    tfppl's `vqVae({ numCodes: 64, codeDim: 16 })`: the same two convs then a 1×1 conv to
            16-dim codes on a 7×7 grid; nearest of 64 codes, straight-through; decoder a 1×1 conv to
            64 (ReLU) and the two transposed convs; loss −log p(x | z_q) + 49 log K + codebook
            ‖sg(z_e) − z_q‖² + 0.25 commitment ‖z_e − sg(z_q)‖², mean over the batch; the code
            usage counted every step (as tfppl's afterStep does).

PyTorch's own layout (NCHW) and padding (1; 'same' in tfjs pads 0/1 — same shapes and FLOPs).
Optional: it needs PyTorch (`apt-get install -y python3-torch` gives Debian's PyTorch 1.13 on the
system OpenBLAS; convolutions run on oneDNN) and runs only when asked:

    /usr/bin/python3 bench/pytorch-vae.py --model mlp-vae --steps 300 --threads 1

Prints one JSON line: {"model", "medianMs", "p10Ms", "p90Ms", "cpuMedianMs", "steps", "threads", "torch", "data"}
(cpuMedianMs: the median of the process's CPU time per step, which time spent waiting for a busy
core does not inflate). With --serve (what `npm run bench` uses, to interleave it with tfppl's
rounds) it prints {"ready": true, ...} after the warm-up, then for every line n it reads runs n
steps and prints {"ms": [...], "cpuMs": [...]}. The server blocks in read() between requests: with
one thread nothing else runs in it, and with more, OpenMP's workers are told to sleep at once
(OMP_WAIT_POLICY=PASSIVE) rather than spin for ~0.2 s after each parallel region.
"""
import argparse
import ctypes
import gzip
import json
import math
import os
import sys
import time

ARGS = argparse.ArgumentParser()
ARGS.add_argument('--model', choices=['mlp-vae', 'conv-vae', 'vq-vae'], default='mlp-vae')
ARGS.add_argument('--steps', type=int, default=300)
ARGS.add_argument('--warmup', type=int, default=10)
ARGS.add_argument('--threads', type=int, default=1)
ARGS.add_argument('--serve', action='store_true')
ARGS = ARGS.parse_args()
# Threads are fixed before torch loads OpenBLAS and libgomp. Idle OpenMP workers block instead
# of spinning: in --serve the process sits idle while tfppl's rounds run on the same cores.
os.environ['OPENBLAS_NUM_THREADS'] = str(ARGS.threads)
os.environ['OMP_NUM_THREADS'] = str(ARGS.threads)
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')


def keep_freed_memory():
    """glibc's allocator told to keep freed memory rather than unmap it (when this is glibc).

    With its default (a dynamic mmap threshold), some processes fall into unmapping and re-mapping a
    step's buffers: measured here, one MLP process in eight took 230 page faults and 1-2 ms of
    system time per step (11.4 ms against 7.7-8.8 ms), the others 0-30 faults. A fixed threshold
    of 256 MiB and no trimming gave 0 faults per step in every process tried. tfppl's wasm heap
    never returns memory either, so both sides step on warm memory.
    """
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    libc.mallopt(m_mmap_threshold, 1 << 28)
    libc.mallopt(m_trim_threshold, 1 << 30)
    libc.mallopt(m_top_pad, 1 << 26)


keep_freed_memory()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

FASHION = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'
BATCH = 128
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


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


def gaussian_elbo_loss(loc, raw, logits, x):
    """−ELBO / batch for q = N(loc, softplus(raw) + 1e-4) reparameterised, prior N(0, I), Bernoulli logits."""
    scale = F.softplus(raw) + 1e-4
    eps = torch.randn_like(loc)
    z = loc + scale * eps
    log_lik = -F.binary_cross_entropy_with_logits(logits(z), x, reduction='sum')
    log_prior = (-0.5 * z * z - HALF_LOG_2PI).sum()
    log_q = (-0.5 * eps * eps - scale.log() - HALF_LOG_2PI).sum()
    return -(log_lik + log_prior - log_q) / x.shape[0]


def conv_encoder():
    """tfppl's convEncoder / vqEncoder trunk: 3×3 stride-2 convs to 32 and 64 channels, ReLU."""
    return [torch.nn.Conv2d(1, 32, 3, stride=2, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(32, 64, 3, stride=2, padding=1), torch.nn.ReLU()]


def conv_decoder_tail():
    """tfppl's convDecoder / vqDecoder tail from 7×7×64: 3×3 stride-2 transposed convs to 32 (ReLU) and 1 channel."""
    return [torch.nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1)]


def build(model):
    """(parameters, step(x) -> loss tensor, input reshaping) of one model."""
    if model == 'mlp-vae':
        z_dim = 50
        encoder, decoder = mlp([784, 400, 2 * z_dim]), mlp([z_dim, 400, 784])

        def loss(x):
            loc, raw = encoder(x).split(z_dim, dim=-1)
            return gaussian_elbo_loss(loc, raw, decoder, x)
        return list(encoder.parameters()) + list(decoder.parameters()), loss, lambda x: x

    if model == 'conv-vae':
        z_dim = 16
        encoder = torch.nn.Sequential(*conv_encoder(), torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 64, 2 * z_dim))
        decoder = torch.nn.Sequential(torch.nn.Linear(z_dim, 7 * 7 * 64), torch.nn.ReLU(), torch.nn.Unflatten(1, (64, 7, 7)),
                                      *conv_decoder_tail())

        def loss(x):
            loc, raw = encoder(x).split(z_dim, dim=-1)
            return gaussian_elbo_loss(loc, raw, decoder, x)
        return list(encoder.parameters()) + list(decoder.parameters()), loss, lambda x: x.reshape(-1, 1, 28, 28)

    # vq-vae
    codes, code_dim, beta = 64, 16, 0.25
    encoder = torch.nn.Sequential(*conv_encoder(), torch.nn.Conv2d(64, code_dim, 1))
    decoder = torch.nn.Sequential(torch.nn.Conv2d(code_dim, 64, 1), torch.nn.ReLU(), *conv_decoder_tail())
    codebook = torch.nn.Parameter(torch.randn(codes, code_dim) * 0.1)
    usage = torch.zeros(codes, dtype=torch.long)
    log_prior = 49 * math.log(codes)

    def loss(x):
        ze = encoder(x).permute(0, 2, 3, 1)                         # [B, 7, 7, D]
        flat = ze.detach().reshape(-1, code_dim)
        dist = (flat * flat).sum(1, keepdim=True) - 2 * flat @ codebook.detach().t() + (codebook.detach() ** 2).sum(1)
        idx = dist.argmin(1)
        hard = codebook[idx].reshape(ze.shape)
        zq = ze + (hard - ze).detach()                              # straight-through
        logits = decoder(zq.permute(0, 3, 1, 2))
        log_lik = -F.binary_cross_entropy_with_logits(logits, x, reduction='sum')
        codebook_loss = ((ze.detach() - hard) ** 2).sum()
        commitment = ((ze - hard.detach()) ** 2).sum()
        usage.add_(torch.bincount(idx, minlength=codes))           # tfppl's afterStep counts usage
        return (-log_lik + x.shape[0] * log_prior + codebook_loss + beta * commitment) / x.shape[0]
    return list(encoder.parameters()) + list(decoder.parameters()) + [codebook], loss, lambda x: x.reshape(-1, 1, 28, 28)


def main(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    params, loss_of, shape = build(args.model)
    optimizer = torch.optim.Adam(params, lr=1e-3)
    flat, source = images(16 * BATCH)
    data = [shape(flat[i * BATCH:(i + 1) * BATCH]).contiguous() for i in range(16)]

    def step(x):
        loss = loss_of(x)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.item()

    done = 0

    def run(n):
        nonlocal done
        wall, cpu = [], []
        for _ in range(n):
            x = data[done % 16]
            c0, t0 = time.process_time(), time.perf_counter()
            loss = step(x)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            done += 1
            if not math.isfinite(loss):
                raise SystemExit(f'pytorch-vae: non-finite loss {loss}')
        return wall, cpu

    run(args.warmup)
    about = {'model': args.model, 'threads': args.threads, 'torch': torch.__version__, 'data': source}
    if args.serve:
        print(json.dumps({'ready': True, **about}), flush=True)
        for line in sys.stdin:
            wall, cpu = run(int(line))
            print(json.dumps({'ms': [round(t, 4) for t in wall], 'cpuMs': [round(t, 4) for t in cpu]}), flush=True)
        return
    wall, cpu = run(args.steps)
    wall, cpu = sorted(wall), sorted(cpu)
    pick = lambda xs, q: round(xs[int(q * (len(xs) - 1))], 3)
    print(json.dumps({'medianMs': pick(wall, 0.5), 'p10Ms': pick(wall, 0.1), 'p90Ms': pick(wall, 0.9),
                      'cpuMedianMs': pick(cpu, 0.5), 'steps': args.steps, **about}))


if __name__ == '__main__':
    main(ARGS)
