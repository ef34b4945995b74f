// Awaiting the GPU in Node: Dawn's promises (mapAsync, onSubmittedWorkDone) do not hold Node's event loop open, so
// a process whose only pending work is a GPU wait exits with the promise unsettled, or aborts in Mesa's threads
// (measured with webgpu 0.6.2 on llvmpipe: "pthread_mutex_lock: Assertion ... !robust failed"). A timer held for
// the length of the wait keeps the process alive; in a browser it is harmless.

export async function gpuWait<T>(pending: Promise<T>): Promise<T> {
  const timer = setInterval(() => { /* keeps the event loop alive while the GPU works */ }, 1000);
  try {
    return await pending;
  } finally {
    clearInterval(timer);
  }
}
