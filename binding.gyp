{
  "targets": [
    {
      "target_name": "nanochat_native",
      "sources": [
        "native/binding.c", "native/pool.c", "native/isa.c", "native/gemm.c", "native/kernels.c", "native/attention.c",
        "native/kern_generic.c", "native/kern_avx2.c", "native/kern_avx512.c", "native/peak.c",
        "native/gemm_bf16.c", "native/kern_avx512bf16.c"
      ],
      "cflags": ["-O3", "-std=gnu11", "-fno-math-errno", "-fopenmp-simd", "-fno-strict-aliasing", "-Wall"],
      "cflags!": ["-O2", "-O0"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
