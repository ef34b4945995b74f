// Portable build of kern_impl.h (SSE2 on x86-64, or whatever the compiler targets) with the plain-C GEMM micro-kernel.
#define NC_SFX _generic
#define NC_NAME "generic"
#define NC_TABLE nc_isa_generic
#define NC_UK nc_uk_ref
#define NC_PACKA nc_packA_ref
#define NC_PACKB nc_packB_ref
#define NC_PACKB_BF16 nc_packB_bf16_ref
#include "kern_impl.h"
