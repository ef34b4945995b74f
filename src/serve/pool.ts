// The model workers and the bounded queue in front of them.
//
// N workers (`--workers`), each a worker thread with its own model replica, decode up to `batch`
// generations at a time together (`--batch`); on the webgpu backend one replica runs in this thread instead
// (`inThread`: Dawn opens its device only on the main thread). A request takes a worker with a free place, or waits
// in a FIFO queue of at most `maxQueue` requests; past that it is refused at once (429 with
// Retry-After), and while no worker is ready (loading, or all crashed) requests are refused with
// 503. A cancelled request leaves the queue, or, when it is running, sets its cancel flag, which the
// worker reads between decode steps: its place is free again within one step. A crashed worker
// fails its requests (500) and is restarted.

import { Worker } from 'node:worker_threads';
import type { JobRequest, JobSpec, WorkerConfig, WorkerEvent } from './protocol.js';
import { startReplica } from './replica.js';
import { RequestError } from './validate.js';
import { getBackend } from '../tensor/backends.js';

export interface ModelInfo {
  modelId: string;
  chat: boolean;
  contextLength: number;
  vocabSize: number;
  nLayer: number;
  nEmbd: number;
  numParams: number;
}

export type { JobSpec };

/** Callbacks for one request; exactly one of onDone/onError ends it (none after cancel()). */
export interface JobHandlers {
  onStart(promptTokens: number, worker: number): void;
  onToken(text: string): void;
  onDone(finish: string, usage: { promptTokens: number; completionTokens: number }): void;
  onError(status: number, message: string, param: string | null): void;
}

export interface JobHandle {
  cancel(): void;
}

interface Job {
  id: number;
  spec: JobSpec;
  handlers: JobHandlers;
  cancel: SharedArrayBuffer;
  closed: boolean;
}

/** Where a slot's replica runs: a worker thread, or this thread (the same two calls either way). */
interface ReplicaHost {
  postMessage(job: JobRequest): void;
  terminate(): Promise<unknown>;
}

interface Slot {
  index: number;
  worker: ReplicaHost;
  ready: boolean;
  /** the jobs this worker is decoding, at most cfg.batch */
  jobs: Map<number, Job>;
}

const RESTART_DELAY_MS = 1000;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;
  info: ModelInfo | undefined;

  constructor(private readonly cfg: WorkerConfig & { workers: number; maxQueue: number; inThread?: boolean }) {
    if (cfg.inThread && cfg.workers !== 1) throw new Error('an in-thread replica is a single worker');
  }

  /** Start every worker; resolves with the model's description once all have loaded it. */
  async start(): Promise<ModelInfo> {
    // Load the compute backend in this thread too (it computes nothing here): a native addon loaded
    // only by workers is unloaded when the last of them exits, and native code that still runs at
    // thread exit (thread-local destructors) would then crash the process. Holding it here keeps
    // it mapped for the life of the process, across worker restarts.
    getBackend();
    const ready = Array.from({ length: this.cfg.workers }, (_, i) => this.spawn(i));
    await Promise.all(ready);
    return this.info as ModelInfo;
  }

  /** The one replica in this thread: it loads synchronously, and a failed load rejects; it is never restarted. */
  private startInThread(index: number): Promise<void> {
    const slot: Slot = { index, worker: { postMessage: () => undefined, terminate: async () => undefined }, ready: false, jobs: new Map() };
    this.slots[index] = slot;
    let failure = '';
    const post = (e: WorkerEvent): void => {
      if (e.type === 'ready') {
        const { type: _t, ...info } = e;
        this.info = info;
      } else if (e.type === 'fatal') failure = e.message;
      else setImmediate(() => this.onEvent(slot, e)); // as a worker's message would: never inside submit()
    };
    try {
      const replica = startReplica(this.workerConfig(), post);
      slot.worker = { postMessage: (job) => replica.submit(job), terminate: async () => undefined };
    } catch (e) {
      return Promise.reject(new Error(failure || (e as Error).message));
    }
    slot.ready = true;
    this.dispatch();
    return Promise.resolve();
  }

  private workerConfig(): WorkerConfig {
    const { source, tag, step, batch, tokenDelayMs, dtype } = this.cfg;
    return { source, tag, step, batch, tokenDelayMs, dtype };
  }

  private spawn(index: number): Promise<void> {
    if (this.cfg.inThread) return this.startInThread(index);
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: this.workerConfig(),
    });
    const slot: Slot = { index, worker, ready: false, jobs: new Map() };
    this.slots[index] = slot;
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (e: WorkerEvent) => {
        if (e.type === 'ready') {
          const { type: _t, ...info } = e;
          this.info = info;
          slot.ready = true;
          started = true;
          resolve();
          this.dispatch();
        } else if (e.type === 'fatal') {
          if (!started) reject(new Error(e.message));
        } else this.onEvent(slot, e);
      });
      worker.on('error', (err) => {
        if (!started) reject(err);
      });
      worker.on('exit', (code) => {
        slot.ready = false;
        const jobs = [...slot.jobs.values()];
        slot.jobs.clear();
        for (const job of jobs) {
          if (job.closed) continue;
          job.closed = true;
          job.handlers.onError(500, `the model worker stopped (exit code ${code}) during this request; it is being restarted`, null);
        }
        if (!started) reject(new Error(`model worker exited with code ${code} while loading`));
        else if (!this.closing) setTimeout(() => { if (!this.closing) this.spawn(index).catch(() => undefined); }, RESTART_DELAY_MS).unref();
        this.failQueueIfNoWorkers();
      });
    });
  }

  private onEvent(slot: Slot, e: Exclude<WorkerEvent, { type: 'ready' | 'fatal' }>): void {
    const job = slot.jobs.get(e.id);
    if (!job) return;
    const finished = e.type === 'done' || e.type === 'error';
    if (finished) slot.jobs.delete(e.id);
    if (!job.closed) {
      if (e.type === 'start') job.handlers.onStart(e.promptTokens, slot.index);
      else if (e.type === 'token') job.handlers.onToken(e.text);
      else if (e.type === 'done') { job.closed = true; job.handlers.onDone(e.finish, { promptTokens: e.promptTokens, completionTokens: e.completionTokens }); }
      else if (e.type === 'error') { job.closed = true; job.handlers.onError(e.status, e.message, e.param); }
    }
    if (finished) this.dispatch();
  }

  /** Queue a request; throws a RequestError (429/503) when it cannot be accepted. */
  submit(spec: JobSpec, handlers: JobHandlers): JobHandle {
    if (this.closing || !this.slots.some((s) => s.ready)) {
      throw new RequestError(503, 'no model worker is ready (still loading or restarting); retry shortly', null, 'server_error');
    }
    const free = this.slots.some((s) => s.ready && s.jobs.size < this.cfg.batch);
    if (!free && this.queue.length >= this.cfg.maxQueue) {
      throw new RequestError(429, `the server is busy: ${this.busy()} requests running and ${this.queue.length} waiting (queue limit ${this.cfg.maxQueue}); retry shortly`, null, 'rate_limit_error');
    }
    const job: Job = { id: this.nextId++, spec, handlers, cancel: new SharedArrayBuffer(4), closed: false };
    this.queue.push(job);
    this.dispatch();
    return {
      cancel: () => {
        if (job.closed) return;
        job.closed = true;
        const q = this.queue.indexOf(job);
        if (q >= 0) this.queue.splice(q, 1);
        const flag = new Int32Array(job.cancel);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0); // wake a worker sleeping in its per-token throttle
      },
    };
  }

  private dispatch(): void {
    // fill the least busy worker first, so two workers share a load instead of one batching it all
    for (;;) {
      if (this.queue.length === 0) return;
      let best: Slot | undefined;
      for (const slot of this.slots) {
        if (!slot || !slot.ready || slot.jobs.size >= this.cfg.batch) continue;
        if (!best || slot.jobs.size < best.jobs.size) best = slot;
      }
      if (!best) return;
      const job = this.queue.shift()!;
      best.jobs.set(job.id, job);
      const msg: JobRequest = { type: 'job', id: job.id, ...job.spec, cancel: job.cancel };
      best.worker.postMessage(msg);
    }
  }

  private failQueueIfNoWorkers(): void {
    if (this.slots.some((s) => s.ready)) return;
    for (const job of this.queue.splice(0)) {
      if (!job.closed) {
        job.closed = true;
        job.handlers.onError(503, 'no model worker is available; retry shortly', null);
      }
    }
  }

  busy(): number {
    return this.slots.reduce((n, s) => n + (s ? s.jobs.size : 0), 0);
  }

  stats(): { workers: number; batch: number; ready: number; busy: number; queued: number; maxQueue: number } {
    return { workers: this.cfg.workers, batch: this.cfg.batch, ready: this.slots.filter((s) => s && s.ready).length, busy: this.busy(), queued: this.queue.length, maxQueue: this.cfg.maxQueue };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const job of this.queue.splice(0)) job.closed = true;
    await Promise.all(this.slots.filter(Boolean).map((s) => s.worker.terminate()));
  }
}
