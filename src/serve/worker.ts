// A model replica in a worker thread (replica.ts): jobs arrive as messages from the HTTP thread (pool.ts), events
// go back the same way (protocol.ts).

import { parentPort, workerData } from 'node:worker_threads';
import type { JobRequest, WorkerConfig, WorkerEvent } from './protocol.js';
import { startReplica, type Replica } from './replica.js';

const port = parentPort;
if (!port) throw new Error('serve/worker.ts runs inside a worker thread');

let replica: Replica;
try {
  replica = startReplica(workerData as WorkerConfig, (e: WorkerEvent) => port.postMessage(e));
} catch {
  process.exit(1); // startReplica posted the reason ('fatal')
}
port.on('message', (job: JobRequest) => {
  if (job.type === 'job') replica.submit(job);
});
