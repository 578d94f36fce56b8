"""`python3 bench/sgemm-threads.py [REPS] [ITERATIONS] [GAPS_US]`: the sgemm products of tfppl's steps
(bench/sgemm-threads.c) with Debian's pthread and OpenMP builds of OpenBLAS at 1 and 2 threads, each
configuration a fresh process (the build chosen by LD_LIBRARY_PATH, checked with openblas_get_parallel),
the configurations interleaved over REPS repetitions (order reversed every other one). Prints µs per
product: the median over repetitions of each process's median. Needs libopenblas-dev (the pthread build)
and libopenblas0-openmp. Issue 21 point 3; results in bench/RESULTS.md, "Threads".
"""
import json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = '/usr/lib/x86_64-linux-gnu/openblas-{}'
BIN = '/tmp/tfppl-sgemm-threads'
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
iters = sys.argv[2] if len(sys.argv) > 2 else '20'
gaps = sys.argv[3].split(',') if len(sys.argv) > 3 else ['0']
CONFIGS = [('pthread', 1, {}), ('pthread', 2, {}), ('openmp', 1, {}), ('openmp', 2, {}),
           ('openmp', 2, {'OMP_WAIT_POLICY': 'PASSIVE'}), ('openmp', 2, {'OMP_PROC_BIND': 'true'})]
SHORT = {'OMP_WAIT_POLICY=PASSIVE': 'passive', 'OMP_PROC_BIND=true': 'bind'}

subprocess.run(['gcc', '-O2', '-o', BIN, os.path.join(HERE, 'sgemm-threads.c'), '-lopenblas'], check=True)
res = {}
for r in range(reps):
  for gap in gaps:
    for build, th, extra in (CONFIGS if r % 2 == 0 else CONFIGS[::-1]):
      env = dict(os.environ, LD_LIBRARY_PATH=LIB.format(build), **extra)
      d = json.loads(subprocess.run([BIN, str(th), iters, gap], env=env, capture_output=True, text=True, check=True).stdout)
      assert (d['parallel'] == 2) == (build == 'openmp'), d['config']
      name = ' '.join([build] + [SHORT[f'{k}={v}'] for k, v in extra.items()])
      res.setdefault((name, th, gap), []).append(d)
  print(f'repetition {r + 1} of {reps}; load average {os.getloadavg()}', file=sys.stderr)

keys = list(res)
ops = list(res[keys[0]][0]['ops'])
med = lambda k, f: statistics.median(f(d) for d in res[k])
print(f'µs per product: median over {reps} repetitions of each process\'s median of {iters} passes')
print('| product | ' + ' | '.join(f'{b} {t}t' + (f' gap {g} µs' if g != '0' else '') for b, t, g in keys) + ' |')
print('| --- ' * (len(keys) + 1) + '|')
mlp = [o for o in ops if o.startswith('mlp')]
conv = [o for o in ops if not o.startswith('mlp')]
rows = [(o, lambda d, o=o: d['ops'][o]) for o in ops] + [
  ('MLP products', lambda d: sum(d['ops'][o] for o in mlp)), ('conv products', lambda d: sum(d['ops'][o] for o in conv)),
  ('all (median of pass totals)', lambda d: d['total'])]
for name, f in rows:
  print(f'| {name} | ' + ' | '.join(f'{med(k, f):.0f}' for k in keys) + ' |')
