// Process-wide pthread pool. One pool serves every Node environment (main thread and worker_threads)
// that loads the addon; nc_lock() serializes jobs, so two JS threads calling kernels at once simply
// take turns. The calling thread works too: a pool of n threads starts n-1 workers.
#define _GNU_SOURCE
#include "nc.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;  // serializes jobs (held by binding entry points)
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;   // guards the sleep/wake handshake
static pthread_cond_t cv_work = PTHREAD_COND_INITIALIZER, cv_done = PTHREAD_COND_INITIALIZER;
static int nthreads = 0;        // configured size (0 = not read yet)
static int nstarted = 0;        // workers running
static pthread_t tids[256];
static nc_task_fn job_fn;
static void *job_ctx;
// The current job in one word, so a task is claimed with one compare-and-swap that also proves the job
// is still the same: bits 63..40 job id, 39..20 task count, 19..0 next task index.
static _Atomic uint64_t job_word;
static atomic_int job_done;     // tasks finished in the current job
static uint64_t job_id;
static atomic_int stop_flag;
static atomic_uint gen;         // bumped per job: wakes sleeping workers
static unsigned start_gen;      // generation when the workers were created (a late-starting worker must still see the first job)
static __thread int in_task;    // nested parallel calls run serially
#define MAXTASKS 0xFFFFF
#define W_IDX(w) ((int)((w) & MAXTASKS))
#define W_N(w) ((int)(((w) >> 20) & MAXTASKS))

// Spin this many pause iterations (~30 us) before sleeping: kernels come in quick bursts during a
// training step, and a futex wake costs ~10-50 us; longer spins would steal the other helpers' cores.
#define SPIN 3000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int nc_threads(void) {
  if (nthreads) return nthreads;
  int n = 0;
  const char *e = getenv("NANOCHAT_THREADS");
  if (e && *e) n = atoi(e);
  if (n <= 0) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  }
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  nthreads = n;
  return n;
}

void nc_lock(void) { pthread_mutex_lock(&big); }
void nc_unlock(void) { pthread_mutex_unlock(&big); }

// Claim and run tasks until none is left. The job cannot finish (so job_fn/job_ctx cannot change)
// while a claimed task is unfinished, and the caller waits only for claimed tasks: a worker the OS
// has descheduled (the cores are shared) never holds the caller up unless it is mid-task.
static void run_tasks(int thread) {
  uint64_t w = atomic_load(&job_word);
  for (;;) {
    int idx = W_IDX(w), n = W_N(w);
    if (idx >= n) return;
    if (atomic_compare_exchange_weak(&job_word, &w, w + 1)) {
      job_fn(job_ctx, idx, thread);
      if (atomic_fetch_add(&job_done, 1) + 1 == n) {
        pthread_mutex_lock(&mu);
        pthread_cond_signal(&cv_done);
        pthread_mutex_unlock(&mu);
      }
      w = atomic_load(&job_word);
    }
  }
}

static void *worker(void *arg) {
  int idx = (int)(intptr_t)arg;
  unsigned seen = start_gen;
  in_task = 1;
  for (;;) {
    for (int i = 0; i < SPIN && atomic_load(&gen) == seen && !atomic_load(&stop_flag); i++) cpu_relax();
    if (atomic_load(&gen) == seen && !atomic_load(&stop_flag)) {
      pthread_mutex_lock(&mu);
      while (atomic_load(&gen) == seen && !atomic_load(&stop_flag)) pthread_cond_wait(&cv_work, &mu);
      pthread_mutex_unlock(&mu);
    }
    if (atomic_load(&stop_flag)) break;
    seen = atomic_load(&gen);
    run_tasks(idx);
  }
  return NULL;
}

static void start_workers(void) {
  int n = nc_threads();
  atomic_store(&stop_flag, 0);
  start_gen = atomic_load(&gen);
  while (nstarted < n - 1) {
    if (pthread_create(&tids[nstarted], NULL, worker, (void *)(intptr_t)(nstarted + 1)) != 0) break;
    nstarted++;
  }
}

void nc_parallel(int ntasks, nc_task_fn fn, void *ctx) {
  if (ntasks <= 0) return;
  if (ntasks == 1 || ntasks > MAXTASKS || in_task || nc_threads() == 1) {
    for (int t = 0; t < ntasks; t++) fn(ctx, t, 0);
    return;
  }
  if (nstarted < nthreads - 1) start_workers();
  if (nstarted == 0) { for (int t = 0; t < ntasks; t++) fn(ctx, t, 0); return; }
  job_fn = fn; job_ctx = ctx;
  atomic_store(&job_done, 0);
  job_id = (job_id + 1) & 0xFFFFFF;
  atomic_store(&job_word, (job_id << 40) | ((uint64_t)ntasks << 20));
  pthread_mutex_lock(&mu);
  atomic_fetch_add(&gen, 1);
  pthread_cond_broadcast(&cv_work);
  pthread_mutex_unlock(&mu);
  in_task = 1;
  run_tasks(0);
  in_task = 0;
  for (int i = 0; i < SPIN && atomic_load(&job_done) < ntasks; i++) cpu_relax();
  if (atomic_load(&job_done) < ntasks) {
    pthread_mutex_lock(&mu);
    while (atomic_load(&job_done) < ntasks) pthread_cond_wait(&cv_done, &mu);
    pthread_mutex_unlock(&mu);
  }
}

void nc_pool_shutdown(void) {
  pthread_mutex_lock(&big);
  if (nstarted) {
    pthread_mutex_lock(&mu);
    atomic_store(&stop_flag, 1);
    pthread_cond_broadcast(&cv_work);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nstarted; i++) pthread_join(tids[i], NULL);
    nstarted = 0;
    atomic_store(&stop_flag, 0);
  }
  pthread_mutex_unlock(&big);
}

// ---- per-thread scratch: slot-indexed buffers that only grow (packed GEMM blocks are up to 4 MiB,
// attention workspaces ~12 T*D floats). A pthread key destructor frees them when the thread ends, so
// short-lived worker_threads do not leak them.
#define NSLOTS 12
static __thread float *ws_ptr[NSLOTS];
static __thread size_t ws_cap[NSLOTS];
static pthread_key_t ws_key;
static int ws_key_live;  // guarded by `big`

static void ws_free(void *unused) {
  (void)unused;
  for (int i = 0; i < NSLOTS; i++) { free(ws_ptr[i]); ws_ptr[i] = NULL; ws_cap[i] = 0; }
}

void nc_ws_init(void) {  // at addon load, holding `big`
  if (!ws_key_live) ws_key_live = pthread_key_create(&ws_key, ws_free) == 0;
}

// Called (holding `big`) by each Node environment's cleanup hook on its own thread: that thread's
// scratch is freed now and its destructor disarmed, because when the last environment goes Node
// unloads the addon, and a destructor left pointing into the unloaded code would crash at thread exit.
void nc_ws_release_thread(int last) {
  ws_free(NULL);
  if (ws_key_live) {
    pthread_setspecific(ws_key, NULL);
    if (last) { pthread_key_delete(ws_key); ws_key_live = 0; }
  }
}

float *nc_ws(int slot, size_t nfloats) {
  if (nfloats > ws_cap[slot]) {
    // pool workers exit only when joined by nc_pool_shutdown, while the addon is loaded: their
    // destructor frees their scratch. JS threads release theirs in nc_ws_release_thread.
    if (ws_key_live && !pthread_getspecific(ws_key)) pthread_setspecific(ws_key, (void *)1);
    free(ws_ptr[slot]);
    size_t cap = nfloats + nfloats / 4 + 64;
    void *p = NULL;
    if (posix_memalign(&p, 64, cap * sizeof(float)) != 0) p = NULL;
    ws_ptr[slot] = (float *)p;
    ws_cap[slot] = p ? cap : 0;
    if (!p) abort();  // out of memory in a kernel: nothing sane to return to JS
  }
  return ws_ptr[slot];
}
