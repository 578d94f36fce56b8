{
  "targets": [
    {
      "target_name": "tfppl_native",
      "sources": ["tfppl_native.c", "common.c", "batch-mat-mul.c", "unary.c", "dense.c", "adam.c", "check.c", "densities.c", "conv.c", "gamma.c", "sum.c", "rows.c", "nearest-codes.c", "parallel.c"],
      "cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra"],
      "libraries": ["-lopenblas", "-lmvec", "-lm", "-lpthread"],
      # RUNPATH: Debian's pthread build of OpenBLAS, whichever build update-alternatives selects (the default
      # libopenblas.so.0 where that directory is absent); --wrap: every product through batch-mat-mul.c's
      # per-product thread count. Why: bench/RESULTS.md, "Threads (issue 21 point 3)". -z nodelete: the addon is
      # never unmapped (Node dlcloses it when the last worker_thread that loaded it ends, while parallel.c's
      # workers and per-thread scratch destructors still run its code: a segfault at exit otherwise).
      "ldflags": ["-Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-pthread", "-Wl,--wrap=cblas_sgemm", "-Wl,-z,nodelete"]
    }
  ]
}
