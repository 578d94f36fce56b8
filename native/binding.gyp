{
  "targets": [
    {
      "target_name": "tfppl_native",
      "sources": ["tfppl_native.c", "common.c", "batch-mat-mul.c", "unary.c", "dense.c", "adam.c", "check.c", "densities.c", "conv.c", "gamma.c", "sum.c"],
      "cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra"],
      "libraries": ["-lopenblas", "-lmvec", "-lm"]
    }
  ]
}
