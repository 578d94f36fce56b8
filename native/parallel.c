/*
 * The accelerator's threads: a call that splits its work runs its shares at once, share 0 on the calling
 * thread and share s on worker s − 1, a thread started the first time it is needed and kept. A worker that
 * finishes a share waits for the next by spinning for SPIN_NS, then sleeps on a condition variable: a step's
 * products come tens to hundreds of µs apart, and threads started per call made the MLP step only
 * 1.01–1.1× faster at 2 threads, with its four large products each 1.45–1.6× faster alone (starting a
 * thread and waking the idle vCPU cost about what a share saves; not measured separately). OpenBLAS itself is kept at one thread: its
 * own pthread workers spin with sched_yield for ≈ 0.1 s after each threaded product, which took the
 * second core from the conv kernels' shares (16–19 ms of system time per conv VAE step at 2 threads).
 */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* How long a worker spins for the next share before it sleeps. */
#define SPIN_NS 300000

/* Set on every thread while it runs a share: its products are not split again. */
static __thread int in_share = 0;

int inside_share(void) { return in_share; }

/* Worker w's slot: the share it runs next, published by incrementing `posted` (the slot is rewritten only
   after the worker has counted its share done in `pending`, so it never reads a half-written job). */
typedef struct {
  void (*work)(void *arg, int share);
  void *arg;
  atomic_ulong posted;
  pthread_mutex_t lock;
  pthread_cond_t wake;
} Slot;

static Slot slots[MAX_SHARES - 1];
static atomic_int pending = 0;
static int workers = 0;
/* Held by the JavaScript thread whose call is using the workers: the addon is one per process, but Node's
   worker_threads may each call it; a call that finds the workers taken runs its shares on its own thread. */
static pthread_mutex_t pool = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Worker w: runs share w + 1 of every job posted to its slot. */
static void *worker(void *p) {
  Slot *slot = p;
  const int share = (int)(slot - slots) + 1;
  unsigned long seen = 0;
  in_share = 1;
  for (;;) {
    const int64_t since = now_ns();
    while (atomic_load(&slot->posted) == seen) {
      if (now_ns() - since < SPIN_NS) { __builtin_ia32_pause(); continue; }
      pthread_mutex_lock(&slot->lock);
      while (atomic_load(&slot->posted) == seen) pthread_cond_wait(&slot->wake, &slot->lock);
      pthread_mutex_unlock(&slot->lock);
    }
    seen++;
    slot->work(slot->arg, share);
    atomic_fetch_sub(&pending, 1);
  }
  return NULL;
}

/* Starts workers until there are `n` (or no more can start); returns how many there are. */
static int ensure_workers(int n) {
  while (workers < n && workers < MAX_SHARES - 1) {
    Slot *slot = &slots[workers];
    atomic_init(&slot->posted, 0);
    pthread_mutex_init(&slot->lock, NULL);
    pthread_cond_init(&slot->wake, NULL);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int ok = pthread_create(&t, &attr, worker, slot) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    workers++;
  }
  return workers;
}

int shares_for(int64_t parts) {
  const int64_t t = blas_threads();
  const int64_t n = t < parts ? t : parts;
  return n < 1 ? 1 : n > MAX_SHARES ? MAX_SHARES : (int)n;
}

void run_shares(int shares, void (*work)(void *arg, int share), void *arg) {
  const int outer = in_share;
  in_share = 1;
  if (pthread_mutex_trylock(&pool) != 0) {   /* another JavaScript thread's call has the workers: run every share here */
    for (int s = 0; s < shares; s++) work(arg, s);
    in_share = outer;
    return;
  }
  int helped = shares < 2 ? 0 : ensure_workers(shares - 1);
  if (helped > shares - 1) helped = shares - 1;
  atomic_store(&pending, helped);
  for (int w = 0; w < helped; w++) {
    Slot *slot = &slots[w];
    slot->work = work;
    slot->arg = arg;
    pthread_mutex_lock(&slot->lock);
    atomic_fetch_add(&slot->posted, 1);
    pthread_cond_signal(&slot->wake);
    pthread_mutex_unlock(&slot->lock);
  }
  work(arg, 0);
  for (int s = helped + 1; s < shares; s++) work(arg, s);   /* shares no worker could take: run them here */
  while (atomic_load(&pending) > 0) __builtin_ia32_pause();
  in_share = outer;
  pthread_mutex_unlock(&pool);
}
