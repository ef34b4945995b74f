// A minimal reader of Python pickles: the stack machine of Python's `pickle` module, for just the opcodes a
// PyTorch state dict (protocol 2, written by torch.save) and a pickled tiktoken Encoding (protocol 4, pickle's
// default) use. Nothing from a file is ever run: a pickle names Python callables (GLOBAL / STACK_GLOBAL) and
// asks for them to be called (REDUCE, NEWOBJ); here each name is looked up in an allow-list the caller gives,
// whose entries build plain JS values. Any other name (os.system, builtins.eval, subprocess.Popen, ...) stops
// the read with a UserError naming it and the file.
//
// Values: None -> null, bools, ints (number, or bigint past 2^53), floats, str -> string, bytes -> Uint8Array,
// tuples and lists -> arrays, dicts -> PyDict (entries in insertion order, as Python keeps them), objects made
// by NEWOBJ -> PyObject (its BUILD state attached), and whatever the allow-list's callables return.
// Opcode numbers and layouts are those of CPython's Lib/pickle.py (protocols 2 to 5).

import { UserError } from '../common/errors.js';

export type PyValue = null | boolean | number | bigint | string | object;

/** A Python dict: key/value pairs in insertion order (keys may be bytes, so no JS Map). */
export class PyDict {
  readonly entries: [PyValue, PyValue][] = [];
  /** attributes set by BUILD (an OrderedDict's `_metadata`, for a state dict) */
  attributes: PyValue = null;

  /** The value of a str key (the last one set wins, as in Python). */
  get(key: string): PyValue | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i][0] === key) return this.entries[i][1];
    return undefined;
  }
}

/** An object made by NEWOBJ (`cls.__new__(cls, *args)`), with the state BUILD gave it. */
export class PyObject {
  state: PyValue = null;
  constructor(readonly className: string, readonly args: PyValue[]) {}
}

/** What a pickle may use of one Python global. */
export interface AllowedGlobal {
  /** REDUCE: the global called with these arguments */
  call?: (args: PyValue[]) => PyValue;
  /** NEWOBJ allowed: the global is a class instantiated without running any of its code (a PyObject) */
  newobj?: boolean;
}

export interface UnpickleOptions {
  /** the file, for error messages */
  where: string;
  /** what the file should hold, for the refusal message: "a PyTorch state dict" */
  what: string;
  /** allowed globals by "module.name" */
  globals: Record<string, AllowedGlobal>;
  /** BINPERSID: turn a persistent id into a value (torch's storages); absent: refused */
  persistentLoad?: (pid: PyValue) => PyValue;
}

/** A global the pickle named, once the allow-list accepted it (torch's storage classes are passed as these). */
export class PyGlobal {
  constructor(readonly name: string, readonly allowed: AllowedGlobal) {}
}

const MARK = Symbol('mark');
const MAX_PICKLE_BYTES = 256 * 2 ** 20;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
// Python 2 str bytes are Latin-1 code points; TextDecoder('latin1') is really windows-1252 (0x80-0x9f differ)
const latin1 = (b: Uint8Array): string => { let s = ''; for (const c of b) s += String.fromCharCode(c); return s; };

/** Run the pickle in `data` and return the value it leaves. */
export function unpickle(data: Uint8Array, opts: UnpickleOptions): PyValue {
  // a state dict's pickle is a few KB per tensor, a 65,536-token Encoding about 1 MB; each one-byte opcode makes a
  // JS object, so a hostile gigabyte of them would exhaust memory before anything could refuse it
  if (data.length > MAX_PICKLE_BYTES) {
    throw new UserError(`${opts.where}: a pickle of ${data.length} bytes is far larger than ${opts.what} needs ` +
      `(at most ${MAX_PICKLE_BYTES / 2 ** 20} MiB): the file is not one`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: (PyValue | typeof MARK)[] = [];
  const memo = new Map<number, PyValue>();
  let p = 0;
  const fail = (why: string): never => {
    throw new UserError(`${opts.where} is not a valid pickle (${why} at byte ${p}): the file is truncated or corrupt`);
  };
  const need = (n: number): number => {
    if (n < 0 || p + n > data.length) fail(`it ends inside an opcode that needs ${n} more bytes`);
    const at = p;
    p += n;
    return at;
  };
  const u8 = () => data[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(data.length)) fail(`a length of ${v} bytes runs past the end`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => new Uint8Array(data.subarray(need(n), p)); // a copy, never a Buffer view
  const text = (n: number): string => {
    const at = need(n);
    try {
      return UTF8.decode(data.subarray(at, p));
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) fail('a GLOBAL name has no line end');
    const s = UTF8.decode(data.subarray(p, end)); // Python 3 reads a GLOBAL's module and name as UTF-8
    p = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('an opcode found too few values on the stack');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('an opcode found no value on the stack');
    return v as PyValue;
  };
  /** the values above the topmost MARK, removing them and the mark */
  const popMark = (): PyValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('an opcode found no MARK');
    const items = stack.splice(at) as PyValue[];
    items.shift();
    return items;
  };
  const refuse = (why: string) =>
    new UserError(`${opts.where}: refusing to load it: its pickle ${why}; nothing from the file was run`);
  const resolve = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    const allowed = opts.globals[qualified];
    if (!allowed) {
      throw refuse(`asks for the Python global ${qualified}, which ${opts.what} never contains ` +
        `(allowed: ${Object.keys(opts.globals).join(', ')})`);
    }
    return new PyGlobal(qualified, allowed);
  };
  const callable = (v: PyValue, op: string): PyGlobal => {
    if (!(v instanceof PyGlobal)) fail(`${op} of something that is not a global`);
    return v as PyGlobal;
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) fail('SETITEM on something that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of values');
    for (let i = 0; i < items.length; i += 2) (dict as PyDict).entries.push([items[i], items[i + 1]]);
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) fail('APPEND on something that is not a list');
    for (const item of items) (list as PyValue[]).push(item); // a spread of 200k items would overflow the stack
  };
  const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
  const int = (v: bigint): number | bigint => (v >= -SAFE && v <= SAFE ? Number(v) : v);
  const long = (n: number): number | bigint => {
    // two's complement, little-endian; a state dict or a tokenizer needs at most 8 bytes, and building a huge one
    // byte by byte is quadratic (a hostile 1 MiB LONG4 would take minutes)
    if (n > 64) fail(`a ${n}-byte integer: no state dict or tokenizer holds one`);
    const b = data.subarray(need(n), p);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return int(v);
  };

  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`pickle protocol ${v} is newer than 5`);
        break;
      }
      case 0x95: u64(); break; // FRAME: a length hint only
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length) fail('values are left on the stack at STOP');
        return v;
      }
      case 0x28: stack.push(MARK); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(long(u8())); break; // LONG1
      case 0x8b: stack.push(long(u32())); break; // LONG4
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x54: stack.push(latin1(bytes(u32()))); break; // BINSTRING (Python 2 str)
      case 0x55: stack.push(latin1(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64())); break; // BINBYTES8
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo entry ${k} is read before it is written`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x63: { const module = line(); stack.push(resolve(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL of names that are not strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE: callable(*args)
        const args = pop(), g = callable(pop(), 'REDUCE');
        if (!Array.isArray(args)) fail('REDUCE with arguments that are not a tuple');
        if (!g.allowed.call) throw refuse(`calls ${g.name}, which ${opts.what} never calls`);
        stack.push(g.allowed.call(args as PyValue[]));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop(), g = callable(pop(), 'NEWOBJ');
        if (!Array.isArray(args)) fail('NEWOBJ with arguments that are not a tuple');
        if (!g.allowed.newobj) throw refuse(`makes an object of ${g.name}, which ${opts.what} never holds`);
        stack.push(new PyObject(g.name, args as PyValue[]));
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state), here only recorded
        const state = pop(), obj = top();
        if (obj instanceof PyObject) obj.state = state;
        else if (obj instanceof PyDict) obj.attributes = state;
        else fail('BUILD of something that is neither an object nor a dict');
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('a persistent id (BINPERSID) where none is expected');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      default:
        const code = `0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))})`;
        throw new UserError(`${opts.where}: refusing to read it: its pickle uses opcode ${code} at byte ${at}, ` +
          `which ${opts.what} never uses`);
    }
  }
}
