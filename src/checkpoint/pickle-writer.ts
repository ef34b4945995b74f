// A minimal writer of Python pickles, for the files we hand to nanochat: a torch.save state dict (protocol 2, as
// torch writes it) and a tokenizer.pkl that unpickles into a tiktoken Encoding (protocol 4, Python's default).
// It writes a value tree (below) with the opcodes Python's own pickler would pick for it; no memo (the memo only
// shares repeated objects, which these files never need). Opcode numbers are those of CPython's Lib/pickle.py.

/** What can be written: Python values, plus the few constructs torch and tiktoken files need. */
export type PickleOut =
  | null | boolean | number | bigint | string | Uint8Array
  | { tuple: PickleOut[] }
  | { dict: [PickleOut, PickleOut][] }
  /** a module-level Python name, "module.name" (e.g. "torch.FloatStorage") */
  | { global: string }
  /** `callable(*args)`, then `[k] = v` for each item (how an OrderedDict pickles) */
  | { call: string; args: PickleOut[]; items?: [PickleOut, PickleOut][] }
  /** `cls.__new__(cls, *args)`, then `__setstate__(state)` (how a plain object pickles) */
  | { newobj: string; args: PickleOut[]; state: PickleOut }
  /** a persistent id: the unpickler's persistent_load turns it into a value (torch's storages) */
  | { persid: PickleOut };

/** Python's pickler sets items in batches of 1000 */
const BATCH = 1000;

class Emitter {
  private readonly parts: Uint8Array[] = [];
  private buf = Buffer.alloc(1 << 16);
  private n = 0;

  constructor(readonly protocol: number) {}

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    this.flush();
    if (k > this.buf.length) this.buf = Buffer.alloc(k);
  }

  private flush(): void {
    if (this.n) this.parts.push(Buffer.from(this.buf.subarray(0, this.n)));
    this.n = 0;
  }

  op(code: number): void {
    this.room(1);
    this.buf[this.n++] = code;
  }

  u8(v: number): void { this.room(1); this.n = this.buf.writeUInt8(v, this.n); }
  u32(v: number): void { this.room(4); this.n = this.buf.writeUInt32LE(v, this.n); }
  i32(v: number): void { this.room(4); this.n = this.buf.writeInt32LE(v, this.n); }
  u64(v: number): void { this.room(8); this.n = this.buf.writeBigUInt64LE(BigInt(v), this.n); }
  f64be(v: number): void { this.room(8); this.n = this.buf.writeDoubleBE(v, this.n); }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  done(): Uint8Array {
    this.flush();
    return Buffer.concat(this.parts);
  }
}

function writeInt(e: Emitter, v: bigint): void {
  if (v >= 0n && v < 256n) { e.op(0x4b); e.u8(Number(v)); } // BININT1
  else if (v >= 0n && v < 65536n) { e.op(0x4d); e.u8(Number(v & 255n)); e.u8(Number(v >> 8n)); } // BININT2
  else if (v >= -(2n ** 31n) && v < 2n ** 31n) { e.op(0x4a); e.i32(Number(v)); } // BININT
  else { // LONG1: little-endian two's complement, as few bytes as hold the sign
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      bytes.push(Number(x & 255n));
      x >>= 8n;
      const sign = bytes[bytes.length - 1] & 0x80;
      if ((x === 0n && !sign) || (x === -1n && sign)) break;
    }
    e.op(0x8a);
    e.u8(bytes.length);
    e.raw(Uint8Array.from(bytes));
  }
}

function writeTuple(e: Emitter, items: PickleOut[]): void {
  if (items.length === 0) { e.op(0x29); return; } // EMPTY_TUPLE
  if (items.length <= 3) {
    for (const v of items) write(e, v);
    e.op(0x84 + items.length); // TUPLE1 .. TUPLE3
    return;
  }
  e.op(0x28); // MARK
  for (const v of items) write(e, v);
  e.op(0x74); // TUPLE
}

function writeItems(e: Emitter, items: [PickleOut, PickleOut][]): void {
  for (let i = 0; i < items.length; i += BATCH) {
    const batch = items.slice(i, i + BATCH);
    if (batch.length === 1) { write(e, batch[0][0]); write(e, batch[0][1]); e.op(0x73); continue; } // SETITEM
    e.op(0x28); // MARK
    for (const [k, v] of batch) { write(e, k); write(e, v); }
    e.op(0x75); // SETITEMS
  }
}

function writeGlobal(e: Emitter, qualified: string): void {
  const dot = qualified.lastIndexOf('.');
  e.op(0x63); // GLOBAL "module\nname\n"
  e.raw(Buffer.from(`${qualified.slice(0, dot)}\n${qualified.slice(dot + 1)}\n`, 'latin1'));
}

function write(e: Emitter, v: PickleOut): void {
  if (v === null) e.op(0x4e); // NONE
  else if (v === true) e.op(0x88); // NEWTRUE
  else if (v === false) e.op(0x89); // NEWFALSE
  else if (typeof v === 'bigint') writeInt(e, v);
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) writeInt(e, BigInt(v));
    else { e.op(0x47); e.f64be(v); } // BINFLOAT
  } else if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    if (b.length < 256 && e.protocol >= 4) { e.op(0x8c); e.u8(b.length); } // SHORT_BINUNICODE
    else { e.op(0x58); e.u32(b.length); } // BINUNICODE
    e.raw(b);
  } else if (v instanceof Uint8Array) {
    if (e.protocol < 3) throw new Error('pickle: bytes need protocol 3 or later');
    if (v.length < 256) { e.op(0x43); e.u8(v.length); } // SHORT_BINBYTES
    else if (v.length < 2 ** 32) { e.op(0x42); e.u32(v.length); } // BINBYTES
    else { e.op(0x8e); e.u64(v.length); } // BINBYTES8
    e.raw(v);
  } else if ('tuple' in v) writeTuple(e, v.tuple);
  else if ('dict' in v) { e.op(0x7d); writeItems(e, v.dict); } // EMPTY_DICT
  else if ('global' in v) writeGlobal(e, v.global);
  else if ('call' in v) {
    writeGlobal(e, v.call);
    writeTuple(e, v.args);
    e.op(0x52); // REDUCE
    if (v.items) writeItems(e, v.items);
  } else if ('newobj' in v) {
    writeGlobal(e, v.newobj);
    writeTuple(e, v.args);
    e.op(0x81); // NEWOBJ
    write(e, v.state);
    e.op(0x62); // BUILD
  } else {
    write(e, v.persid);
    e.op(0x51); // BINPERSID
  }
}

/** The pickle of `value` with the given protocol (2: torch.save's; 4: Python's default), ending in STOP. */
export function pickle(value: PickleOut, protocol: 2 | 3 | 4): Uint8Array {
  const e = new Emitter(protocol);
  e.op(0x80); // PROTO
  e.u8(protocol);
  write(e, value);
  e.op(0x2e); // STOP
  return e.done();
}
