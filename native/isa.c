// Which kernel table runs: at the first load the one NANOCHAT_ISA names, else the best this CPU can
// run; setIsa switches at run time (the tests run every table the CPU supports this way).
#include "nc.h"
#include <stdlib.h>
#include <string.h>

const nc_isa_t *nc_isa = &nc_isa_generic;

// The AVX-512 table is compiled for F, VL, BW and DQ with FMA; the AVX2 table for AVX2 with FMA.
int nc_cpu_has_avx512(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

int nc_cpu_has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

// vdpbf16ps and vcvtne(2)ps2bf16 (the bf16 GEMM, gemm_bf16.c), on top of the AVX-512 table's features.
int nc_cpu_has_avx512bf16(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return nc_cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
#else
  return 0;
#endif
}

const char *nc_set_isa(const char *name) {
  int best = !name || !*name || !strcmp(name, "auto");
  const nc_isa_t *chosen = NULL;
#if defined(__x86_64__) || defined(__i386__)  // only x86 builds hold the AVX tables
  if ((best || !strcmp(name, "avx512")) && nc_cpu_has_avx512()) chosen = &nc_isa_avx512;
  else if ((best || !strcmp(name, "avx2")) && nc_cpu_has_avx2()) chosen = &nc_isa_avx2;
#endif
  if (!chosen && (best || !strcmp(name, "generic"))) chosen = &nc_isa_generic;
  if (chosen) nc_isa = chosen;  // an unknown name, or a table this CPU cannot run, changes nothing
  return nc_isa->name;
}

// Called when the first Node environment loads the addon. If the library stayed loaded after an
// earlier last environment ended, an AVX table chosen then stays.
void nc_isa_init(void) {
  if (nc_isa == &nc_isa_generic) nc_set_isa(getenv("NANOCHAT_ISA"));
}
