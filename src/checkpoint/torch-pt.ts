// PyTorch's torch.save format, read and written without Python: a zip (torch-zip.ts) holding `data.pkl`, a
// pickle of the saved object, and one raw little-endian entry `data/<key>` per storage. In the pickle each
// tensor is `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata])`, where storage is the persistent id ('storage', torch.<Type>Storage, key,
// location, numel); a state dict is a `collections.OrderedDict` of them. Only those globals are allowed in
// (pickle.ts refuses any other, so a hostile file runs nothing). Tensors are read one at a time by offset,
// converted to float32 (from f32, bf16, f16 or f64), so a checkpoint of several GB never sits in memory whole.

import { UserError } from '../common/errors.js';
import { PyDict, PyGlobal, unpickle, type AllowedGlobal, type PyValue } from './pickle.js';
import { pickle, type PickleOut } from './pickle-writer.js';
import { ZipReader, zipParts, type ZipInput } from './torch-zip.js';

export type TorchDtype =
  | 'float32' | 'bfloat16' | 'float16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** torch's typed storage classes (the names torch.save writes) and their element types */
const STORAGE_TYPES: Record<string, { dtype: TorchDtype; bytes: number }> = {
  'torch.FloatStorage': { dtype: 'float32', bytes: 4 },
  'torch.BFloat16Storage': { dtype: 'bfloat16', bytes: 2 },
  'torch.HalfStorage': { dtype: 'float16', bytes: 2 },
  'torch.DoubleStorage': { dtype: 'float64', bytes: 8 },
  'torch.LongStorage': { dtype: 'int64', bytes: 8 },
  'torch.IntStorage': { dtype: 'int32', bytes: 4 },
  'torch.ShortStorage': { dtype: 'int16', bytes: 2 },
  'torch.CharStorage': { dtype: 'int8', bytes: 1 },
  'torch.ByteStorage': { dtype: 'uint8', bytes: 1 },
  'torch.BoolStorage': { dtype: 'bool', bytes: 1 },
};

interface Storage { key: string; dtype: TorchDtype; bytes: number; numel: number }

/** One tensor of the file: where its elements are; read it with TorchFile.readFloat32 / readInts. */
export interface TorchTensor {
  dtype: TorchDtype;
  shape: number[];
  stride: number[];
  storage: Storage;
  /** offset into the storage, in elements */
  offset: number;
}

const isInt = (v: PyValue): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The row-major strides of a shape (what a contiguous tensor has). */
function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let i = shape.length - 1, acc = 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** bf16 and f16 tensors are read and widened 32 MB at a time, never held twice in full */
const CHUNK_BYTES = 32 << 20;

/** The bytes as little-endian 16-bit words (a view when aligned, else a copy); x86 and ARM are little-endian. */
function u16(raw: Buffer): Uint16Array {
  if (raw.byteOffset % 2 === 0) return new Uint16Array(raw.buffer, raw.byteOffset, raw.length >> 1);
  return new Uint16Array(Uint8Array.from(raw).buffer);
}

/** f16 bits -> value, for all 65,536 bit patterns (built on first use) */
let halfTable: Float32Array | undefined;
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 31, mant = h & 1023;
    halfTable[h] = exp === 0 ? sign * mant * 2 ** -24
      : exp === 31 ? (mant ? NaN : sign * Infinity)
      : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

/** A torch.save file opened for reading: its pickled object, with tensors as TorchTensor. Close it when done. */
export class TorchFile {
  readonly root: PyValue;
  private readonly zip: ZipReader;
  private readonly prefix: string;

  constructor(readonly path: string) {
    this.zip = new ZipReader(path);
    try {
      const first = this.zip.entries.keys().next().value as string | undefined;
      const slash = first?.indexOf('/') ?? -1;
      if (first === undefined || slash < 0) throw new UserError(`${path} is a zip but no PyTorch file (no data.pkl)`);
      this.prefix = first.slice(0, slash + 1);
      this.root = unpickle(this.zip.read(`${this.prefix}data.pkl`), {
        where: `${path} (data.pkl)`, what: 'a PyTorch tensor file', globals: TORCH_GLOBALS, persistentLoad: storageOf,
      });
    } catch (e) {
      this.zip.close();
      // the storage and tensor checks run inside the unpickler: say which file they are about
      if (e instanceof UserError && !e.message.includes(path)) throw new UserError(`${path}: ${e.message}`);
      throw e;
    }
  }

  close(): void {
    this.zip.close();
  }

  /** The file's state dict: every key of its OrderedDict (or dict), each a tensor. */
  stateDict(): Map<string, TorchTensor> {
    if (!(this.root instanceof PyDict)) {
      throw new UserError(`${this.path} does not hold a state dict (a dict of tensors): it is not a model checkpoint`);
    }
    const out = new Map<string, TorchTensor>();
    for (const [k, v] of this.root.entries) {
      if (typeof k !== 'string' || !isTensor(v)) throw new UserError(`${this.path}: state dict entry ${String(k)} is no tensor`);
      out.set(k, v);
    }
    return out;
  }

  /** The file's one tensor (token_bytes.pt saves a bare tensor). */
  tensor(): TorchTensor {
    if (!isTensor(this.root)) throw new UserError(`${this.path} does not hold a single tensor`);
    return this.root;
  }

  /**
   * Read a contiguous tensor's elements in chunks of at most `chunkElements`: `use(bytes, first)` gets each chunk's
   * raw bytes and the index of its first element. A chunk reads into `into` when given (elements of `bytes` each).
   */
  private elements(name: string, t: TorchTensor, use: (raw: Buffer, first: number) => void, into?: Uint8Array): void {
    const n = numel(t.shape);
    const strides = contiguousStrides(t.shape);
    if (t.shape.some((d, i) => d > 1 && t.stride[i] !== strides[i])) {
      throw new UserError(`${this.path}: '${name}' is not contiguous (strides [${t.stride}] for shape [${t.shape}]); ` +
        'save it after .contiguous()');
    }
    if (t.offset + n > t.storage.numel) {
      throw new UserError(`${this.path}: '${name}' needs elements ${t.offset}..${t.offset + n} of a storage of ` +
        `${t.storage.numel}: the file is corrupt`);
    }
    const entry = `${this.prefix}data/${t.storage.key}`;
    const e = this.zip.entry(entry);
    if (e.size < t.storage.numel * t.storage.bytes) {
      throw new UserError(`${this.path}: storage ${entry} has ${e.size} bytes, its tensor needs ` +
        `${t.storage.numel * t.storage.bytes}: the file is truncated or corrupt`);
    }
    const bytes = t.storage.bytes, start = t.offset * bytes;
    if (into) {
      this.zip.readEntryInto(entry, start, into);
      return;
    }
    const chunk = Math.max(1, Math.floor(CHUNK_BYTES / bytes));
    for (let first = 0; first < n; first += chunk) {
      const raw = Buffer.allocUnsafe(Math.min(chunk, n - first) * bytes);
      this.zip.readEntryInto(entry, start + first * bytes, raw);
      use(raw, first);
    }
  }

  /** A float tensor's values as float32 (bf16 and f16 widened exactly, f64 rounded). */
  readFloat32(name: string, t: TorchTensor): Float32Array {
    const out = new Float32Array(numel(t.shape));
    const bits = new Uint32Array(out.buffer);
    if (t.dtype === 'float32') this.elements(name, t, () => {}, new Uint8Array(out.buffer)); // x86 and ARM are little-endian
    else if (t.dtype === 'bfloat16') {
      // a bfloat16 is the top half of the float32 with the same value
      this.elements(name, t, (raw, first) => {
        const h = u16(raw);
        for (let i = 0; i < h.length; i++) bits[first + i] = h[i] << 16;
      });
    } else if (t.dtype === 'float16') {
      const table = halfToFloat();
      this.elements(name, t, (raw, first) => {
        const h = u16(raw);
        for (let i = 0; i < h.length; i++) out[first + i] = table[h[i]];
      });
    } else if (t.dtype === 'float64') {
      this.elements(name, t, (raw, first) => {
        for (let i = 0; 8 * i < raw.length; i++) out[first + i] = raw.readDoubleLE(8 * i);
      });
    } else {
      throw new UserError(`${this.path}: '${name}' has dtype ${t.dtype}; a weight is float32, bfloat16, float16 or float64`);
    }
    return out;
  }

  /** An integer tensor's values (int64 ones must fit in 2^53). */
  readInts(name: string, t: TorchTensor): number[] {
    const read: Partial<Record<TorchDtype, (raw: Buffer, i: number) => number>> = {
      int64: (raw, i) => Number(raw.readBigInt64LE(8 * i)), int32: (raw, i) => raw.readInt32LE(4 * i),
      int16: (raw, i) => raw.readInt16LE(2 * i), int8: (raw, i) => raw.readInt8(i), uint8: (raw, i) => raw[i],
    };
    const at = read[t.dtype];
    if (!at) throw new UserError(`${this.path}: '${name}' has dtype ${t.dtype}, not an integer type`);
    const out: number[] = [];
    this.elements(name, t, (raw) => { for (let i = 0; i * t.storage.bytes < raw.length; i++) out.push(at(raw, i)); });
    return out;
  }
}

function isTensor(v: PyValue | undefined): v is TorchTensor {
  return typeof v === 'object' && v !== null && 'storage' in v && 'stride' in v;
}

/** BINPERSID: ('storage', torch.<Type>Storage, key, location, numel) -> the storage it names */
/** A short, safe description of a value from a file: its type and size, never the value itself (it may be huge or circular). */
function describe(v: PyValue): string {
  if (Array.isArray(v)) return `a tuple of ${v.length} (${v.slice(0, 5).map((x) => (Array.isArray(x) ? 'tuple' : typeof x)).join(', ')})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}${v.length > 40 ? '...' : ''}`;
  return v === null ? 'None' : typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

function storageOf(pid: PyValue): Storage {
  const ok = Array.isArray(pid) && pid.length === 5 && pid[0] === 'storage' && pid[1] instanceof PyGlobal &&
    typeof pid[2] === 'string' && isInt(pid[4]);
  if (!ok) {
    throw new UserError(`a persistent id in data.pkl is not a torch storage: ${describe(pid)}`);
  }
  const type = STORAGE_TYPES[pid[1].name];
  if (!type) throw new UserError(`data.pkl has a storage of ${pid[1].name}, which we do not read`);
  return { key: pid[2], numel: pid[4], ...type };
}

function rebuildTensor(args: PyValue[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  const ok = typeof storage === 'object' && storage !== null && 'key' in storage && isInt(offset) &&
    Array.isArray(size) && size.every(isInt) && Array.isArray(stride) && stride.every(isInt) &&
    size.length === stride.length;
  if (!ok) throw new UserError('data.pkl rebuilds a tensor from arguments other than (storage, offset, size, stride, ...)');
  const s = storage as Storage;
  return { dtype: s.dtype, shape: size as number[], stride: stride as number[], storage: s, offset: offset as number };
}

// every storage class may be named (in persistent ids), none may be called
const STORAGE_GLOBALS: Record<string, AllowedGlobal> = Object.fromEntries(Object.keys(STORAGE_TYPES).map((k) => [k, {}]));

export const TORCH_GLOBALS: Record<string, AllowedGlobal> = {
  'collections.OrderedDict': { call: () => new PyDict() },
  'torch._utils._rebuild_tensor_v2': { call: rebuildTensor },
  // a state dict saved with keep_vars=True holds Parameters: _rebuild_parameter(data, requires_grad, hooks)
  'torch._utils._rebuild_parameter': { call: (args) => args[0] },
  ...STORAGE_GLOBALS,
};

// --- writing ---

/** A tensor to save: float32 or int32, contiguous. */
export interface TorchOut {
  dtype: 'float32' | 'int32';
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

/** The bytes of an array as views of at most 1 GB (a Uint8Array cannot span more than 4 GB). */
function byteViews(a: Float32Array | Int32Array): Uint8Array[] {
  const views: Uint8Array[] = [];
  for (let at = 0; at < a.byteLength || views.length === 0; at += 1 << 30) {
    views.push(new Uint8Array(a.buffer, a.byteOffset + at, Math.min(1 << 30, a.byteLength - at)));
  }
  return views;
}

/**
 * The bytes of a torch.save file (as parts to write in order) holding `root`: a state dict (an OrderedDict of
 * named tensors, in the Map's order) or one tensor. `archive` names the zip's folder: torch uses the file's
 * name without its extension.
 */
export function torchSaveParts(
  archive: string, root: Map<string, TorchOut> | TorchOut, opts: { zip64?: boolean } = {},
): Uint8Array[] {
  const storages: ZipInput[] = [];
  // each tensor's backward hooks: an empty OrderedDict
  const emptyOrderedDict = { call: 'collections.OrderedDict', args: [] };
  const tensorOut = (t: TorchOut): PickleOut => {
    const n = numel(t.shape);
    if (n !== t.data.length) throw new Error(`torchSaveParts: shape [${t.shape}] is ${n} elements, data ${t.data.length}`);
    const key = String(storages.length);
    storages.push({ name: `${archive}/data/${key}`, parts: byteViews(t.data) });
    const storageClass = t.dtype === 'float32' ? 'torch.FloatStorage' : 'torch.IntStorage';
    const pid: PickleOut = { persid: { tuple: ['storage', { global: storageClass }, key, 'cpu', n] } };
    return {
      call: 'torch._utils._rebuild_tensor_v2',
      args: [pid, 0, { tuple: [...t.shape] }, { tuple: contiguousStrides(t.shape) }, false, emptyOrderedDict],
    };
  };
  const value: PickleOut = root instanceof Map
    ? { ...emptyOrderedDict, items: [...root].map(([k, t]): [PickleOut, PickleOut] => [k, tensorOut(t)]) }
    : tensorOut(root);
  const pkl = pickle(value, 2);
  return zipParts([
    { name: `${archive}/data.pkl`, parts: [pkl] },
    { name: `${archive}/byteorder`, parts: [Buffer.from('little')] },
    ...storages,
    { name: `${archive}/version`, parts: [Buffer.from('3\n')] },
  ], opts);
}
