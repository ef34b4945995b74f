// Opening a WebGPU adapter and device from a `GPU` object (navigator.gpu in a browser, Dawn's create() in Node).
//
// Kernels need big bindings and all the storage buffers a stage allows, so the device asks for the adapter's
// maximum of every limit that matters to compute (the defaults are 128 MiB bindings, 8 storage buffers a stage,
// 16 KiB workgroup memory, 256 invocations). shader-f16 and subgroups are requested when offered (the reductions use
// subgroups where WGSL also numbers them: kernels/workgroup-reduce.ts).
// No Node module is imported here: this file runs in a browser tab too.

/** What the adapter says it is, and whether it computes on the CPU (llvmpipe, SwiftShader, WARP). */
export interface GpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  featureLevel: 'core' | 'compatibility';
  isSoftware: boolean;
  features: string[];
  /** workgroup reductions can use subgroups: the device has `subgroups` and WGSL the `subgroup_id` builtin */
  subgroupReductions: boolean;
}

export interface OpenedDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  report: GpuAdapterReport;
}

const COMPUTE_LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize', 'maxBindingsPerBindGroup', 'maxDynamicUniformBuffersPerPipelineLayout',
] as const;

const OPTIONAL_FEATURES = ['shader-f16', 'subgroups'] as const;

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|\bwarp\b/i;

/** True for an adapter that runs on the CPU: the adapter's own flag, or its names naming a software rasterizer. */
export function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  const flagged = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return flagged || SOFTWARE_NAMES.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

/**
 * The adapter at this feature level and a device with its maximum compute limits, or null when there is none.
 * Throws when the adapter exists but refuses a device (the caller reports it).
 */
export async function openDevice(gpu: GPU, featureLevel: 'core' | 'compatibility'): Promise<OpenedDevice | null> {
  const adapter = await gpu.requestAdapter({ featureLevel, powerPreference: 'high-performance' });
  if (!adapter) return null;
  const requiredLimits: Record<string, number> = {};
  for (const name of COMPUTE_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter(f => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;
  const languageFeatures = (gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  const subgroupReductions = device.features.has('subgroups') && languageFeatures?.has('subgroup_id') === true;
  return {
    adapter,
    device,
    report: {
      vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
      featureLevel, isSoftware: isSoftwareAdapter(info), features: [...device.features].map(String).sort(),
      subgroupReductions,
    },
  };
}
