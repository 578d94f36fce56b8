{
  "targets": [
    {
      "target_name": "tfppl_native",
      "sources": ["tfppl_native.c", "common.c", "gemm.c", "unary.c", "dense.c", "adam.c", "check.c", "density.c", "conv.c"],
      "cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra"],
      "libraries": ["-lopenblas", "-lmvec", "-lm"]
    }
  ]
}
