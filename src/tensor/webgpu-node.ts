// Opening the webgpu backend in Node through Dawn (the `webgpu` package). The browser passes navigator.gpu to
// WebGpuBackend itself; this file is the Node side, kept out of webgpu/ so that folder imports no Node module.
//
// Order: Dawn's default backend (Vulkan, Metal or D3D12) at featureLevel 'core', as on a machine with a GPU; then
// OpenGL ES at 'compatibility', which on a machine without one is Mesa's llvmpipe (software, through EGL without a
// display: EGL_PLATFORM=surfaceless). NANOCHAT_WEBGPU_DAWN_BACKEND (vulkan, opengl, ...) tries only that backend.

import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { WebGpuBackend } from './webgpu/backend.js';
import { type OpenedDevice, openDevice } from './webgpu/device.js';

export interface NodeWebGpuOptions {
  /** one Dawn backend name to try (default: NANOCHAT_WEBGPU_DAWN_BACKEND, else default then opengl) */
  dawnBackend?: string;
}

const INSTALL_HINT = 'install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri, or pick NANOCHAT_BACKEND=native';

interface DawnModule { create(flags: string[]): GPU; globals: object }

/** Dawn's module with the GPU* globals installed (GPUBufferUsage, GPUMapMode, ... as in a browser), or why not. */
async function loadDawn(): Promise<DawnModule | { why: string }> {
  // EGL without a display server; Mesa wants a runtime dir and warns on every start without one (one per user, kept)
  process.env.EGL_PLATFORM ??= 'surfaceless';
  if (process.env.XDG_RUNTIME_DIR === undefined) {
    const dir = join(tmpdir(), `nanochat-xdg-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  try {
    const dawn = (await import('webgpu')) as unknown as DawnModule;
    Object.assign(globalThis, dawn.globals);
    return dawn;
  } catch (e) {
    return { why: `the 'webgpu' package (Dawn) does not load: ${firstLine(e)}` };
  }
}

/** The webgpu backend on the best adapter Dawn finds; a UserError naming what is missing when there is none. */
export async function openNodeWebGpu(opts: NodeWebGpuOptions = {}): Promise<WebGpuBackend> {
  const dawn = await loadDawn();
  if ('why' in dawn) throw new UserError(`no WebGPU: ${dawn.why}; run npm install, or pick NANOCHAT_BACKEND=native`);
  const forced = opts.dawnBackend ?? process.env.NANOCHAT_WEBGPU_DAWN_BACKEND;
  const attempts: { flags: string[]; level: 'core' | 'compatibility' }[] = forced
    ? [{ flags: [`backend=${forced}`], level: 'core' }, { flags: [`backend=${forced}`], level: 'compatibility' }]
    : [
      // Vulkan only where a driver is installed (else Dawn prints its Vulkan errors on stderr and finds nothing)
      ...(process.platform !== 'linux' || hardwareVulkanDriver() ? [{ flags: [], level: 'core' as const }] : []),
      { flags: ['backend=opengl'], level: 'compatibility' },
    ];
  const tried: string[] = [];
  for (const a of attempts) {
    const label = `${a.flags[0] ?? 'default'} (${a.level})`;
    let opened: OpenedDevice | null;
    try {
      opened = await openDevice(dawnInstance(dawn, a.flags), a.level);
    } catch (e) {
      tried.push(`${label}: ${firstLine(e)}`);
      continue;
    }
    if (opened) return new WebGpuBackend(opened);
    tried.push(`${label}: none`);
  }
  throw new UserError(`no WebGPU adapter: Dawn found none (${tried.join('; ')}); ${INSTALL_HINT}`);
}

/**
 * The default backend's question: is there a hardware GPU adapter? Tries only Dawn's native backend (Vulkan, Metal,
 * D3D12) at featureLevel 'core', never the OpenGL path (on a machine without a GPU that is llvmpipe, software), and
 * answers with the open backend, or why there is none in words for the log line.
 */
export async function probeHardwareWebGpu(): Promise<{ backend: WebGpuBackend } | { why: string }> {
  // On Linux Dawn reaches a GPU through Vulkan, whose drivers announce themselves with ICD files; without one, asking
  // would only print Dawn's Vulkan errors on stderr at every command's start
  if (process.platform === 'linux' && !hardwareVulkanDriver()) {
    return { why: 'no hardware GPU adapter (no Vulkan driver installed: no ICD file in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)' };
  }
  const dawn = await loadDawn();
  if ('why' in dawn) return { why: `no WebGPU (${dawn.why})` };
  let opened: OpenedDevice | null;
  try {
    opened = await openDevice(dawnInstance(dawn, []), 'core');
  } catch (e) {
    return { why: `the GPU adapter refused a device (${firstLine(e)})` };
  }
  if (!opened) return { why: 'no hardware GPU adapter (Vulkan/Metal/D3D12) found by WebGPU' };
  if (opened.report.isSoftware) {
    const name = opened.report.device || opened.report.description;
    opened.device.destroy();
    return { why: `WebGPU's only adapter is software (${name}), slower than native` };
  }
  return { backend: new WebGpuBackend(opened) };
}

/**
 * One Dawn instance per flag set, kept for the life of the process: an instance that the garbage collector takes
 * terminates the process-wide EGL display, and every device of a later instance on it then hangs or crashes.
 */
const instances = new Map<string, GPU>();
function dawnInstance(dawn: DawnModule, flags: string[]): GPU {
  const key = flags.join(' ');
  let gpu = instances.get(key);
  if (!gpu) { gpu = dawn.create(flags); instances.set(key, gpu); }
  return gpu;
}

/** An installed Vulkan driver that is not a CPU one (lavapipe's lvp_icd, SwiftShader's). */
function hardwareVulkanDriver(): boolean {
  const named = [process.env.VK_DRIVER_FILES, process.env.VK_ICD_FILENAMES].filter(Boolean).join(':').split(':').filter(Boolean);
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const files = [...named, ...dirs.flatMap((d) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : []))];
  return files.some((f) => f.endsWith('.json') && !/lvp|swiftshader/i.test(f));
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
