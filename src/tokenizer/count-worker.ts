// Worker side of parallel chunk counting (see chunk-count.ts): split each batch of documents into
// chunks and count them in a local Map; on 'finish' send the Map back as two arrays.

import { parentPort, workerData } from 'node:worker_threads';
import { Splitter, type PatternName } from './pattern.js';

const splitter = new Splitter((workerData as { pattern: PatternName }).pattern);
const counts = new Map<string, number>();
const bump = (chunk: string): void => {
  counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
};

parentPort!.on('message', (msg: { docs?: string[]; finish?: boolean }) => {
  if (msg.docs) {
    for (const d of msg.docs) splitter.forEach(d, bump);
    parentPort!.postMessage({ done: msg.docs.length });
  } else if (msg.finish) {
    parentPort!.postMessage({ keys: [...counts.keys()], values: [...counts.values()] });
  }
});
