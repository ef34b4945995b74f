// What this CPU is, from /proc/cpuinfo (Linux): model name, vendor, family, flags, clock, physical cores.
// Used to key the peak cache (peak-cache.ts), to compute a peak from the clock, and to pick the OpenBLAS
// kernels of the PyTorch peer (bench/openblas.ts). Elsewhere (no /proc/cpuinfo) the fields come from os.cpus().

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface CpuInfo {
  /** "AMD EPYC", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", ... */
  model: string;
  /** "AuthenticAMD", "GenuineIntel", or '' */
  vendor: string;
  /** "cpu family" and "model" numbers (Zen 5 is family 26), -1 when unknown */
  family: number;
  modelNumber: number;
  flags: Set<string>;
  /** mean "cpu MHz" over the logical CPUs listed, 0 when unknown */
  mhz: number;
  /** physical cores: distinct (physical id, core id) pairs, else the logical CPU count */
  cores: number;
}

/** Parse /proc/cpuinfo text (or read it); blocks are separated by blank lines, one per logical CPU. */
export function readCpu(text?: string): CpuInfo {
  if (text === undefined) {
    try { text = readFileSync('/proc/cpuinfo', 'utf8'); } catch { text = ''; }
  }
  const blocks = text.split(/\n\s*\n/).map(parseBlock).filter((b) => b.has('processor'));
  if (!blocks.length) {
    const c = cpus();
    return { model: c[0]?.model ?? 'unknown', vendor: '', family: -1, modelNumber: -1, flags: new Set(),
      mhz: c[0]?.speed ?? 0, cores: Math.max(1, c.length) };
  }
  const first = blocks[0];
  const mhzs = blocks.map((b) => Number(b.get('cpu MHz'))).filter((x) => Number.isFinite(x) && x > 0);
  const coreIds = new Set(blocks.filter((b) => b.has('core id')).map((b) => `${b.get('physical id')}/${b.get('core id')}`));
  return {
    model: first.get('model name') ?? 'unknown',
    vendor: first.get('vendor_id') ?? '',
    family: intOr(first.get('cpu family')),
    modelNumber: intOr(first.get('model')),
    flags: new Set((first.get('flags') ?? '').split(/\s+/).filter(Boolean)),
    mhz: mhzs.length ? mhzs.reduce((a, b) => a + b, 0) / mhzs.length : 0,
    cores: coreIds.size || blocks.length,
  };
}

/** "AMD EPYC (family 26 model 2)": model names in VMs are often generic; the numbers tell the generation. */
export const cpuName = (cpu: CpuInfo): string => (cpu.family >= 0 ? `${cpu.model} (family ${cpu.family} model ${cpu.modelNumber})` : cpu.model);

function parseBlock(block: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of block.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

const intOr = (s: string | undefined): number => (s !== undefined && /^\d+$/.test(s) ? Number(s) : -1);

/** The widest vector instruction set the flags allow, named as the native kernel tables are. */
export function widestIsa(cpu: CpuInfo): 'avx512' | 'avx2' | 'generic' {
  const f = cpu.flags;
  if (['avx512f', 'avx512vl', 'avx512bw', 'avx512dq', 'fma'].every((x) => f.has(x))) return 'avx512';
  if (f.has('avx2') && f.has('fma')) return 'avx2';
  return 'generic';
}

/**
 * The float32 peak from the spec sheet: cores x 2 FMA units x 8 lanes x 2 FLOPs x clock, for x86 with AVX2
 * and FMA; undefined elsewhere or when the clock cannot be read. It is a floor, not the peak:
 * - lanes: 8 (256 bits). Every core since Haswell (Intel) and Zen 2 (AMD) has 2 FMA units at least 256 bits
 *   wide. 512-bit units double that only where they are 512 wide (Zen 5 server parts, Xeon Gold/Platinum),
 *   not on Zen 4 (two passes of 256) or Xeons with one 512-bit unit, which flags cannot tell apart.
 * - clock: "cpu MHz" is the clock at the moment of reading (in a VM often the nominal one); under an FMA
 *   loop cores run at their all-core turbo, usually higher. A core that reads a boosted clock while the
 *   all-core turbo is lower would make the figure a little too high.
 * Zen 5 here (2 cores, "cpu MHz" 2596): 2 x 2 x 8 x 2 x 2.596 = 166 GFLOP/s; measured 448 with AVX-512.
 */
export function computedPeakFlops(cpu: CpuInfo, threads: number): { flops: number; how: string } | undefined {
  if (!(cpu.flags.has('avx2') && cpu.flags.has('fma')) || !(cpu.mhz > 0)) return undefined;
  const cores = Math.max(1, Math.min(threads, cpu.cores));
  const flops = cores * 2 * 8 * 2 * cpu.mhz * 1e6;
  return { flops, how: `${cores} ${cores === 1 ? 'core' : 'cores'} x 2 FMA units x 8 lanes x 2 FLOP x ${cpu.mhz.toFixed(0)} MHz` };
}

/**
 * A ceiling no honest measurement exceeds: 2 FMA units of the widest ISA's lanes at 6 GHz on every core.
 * A timed run above it is a clock glitch and must not enter the cache (which only ever rises).
 */
export function peakCeilingFlops(cpu: CpuInfo, threads: number): number {
  const lanes = { avx512: 16, avx2: 8, generic: 16 }[widestIsa(cpu)]; // generic: e.g. 4 x 128-bit NEON pipes
  return Math.max(1, Math.min(threads, cpu.cores)) * 2 * lanes * 2 * 6e9;
}
