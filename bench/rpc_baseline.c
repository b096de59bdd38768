/*
 * libvirt's own C client, the baseline of bench/rpc.ts.
 *
 *   gcc -O2 -o rpc_baseline bench/rpc_baseline.c $(pkg-config --cflags --libs libvirt) -lpthread
 *   ./rpc_baseline --uri=test+tcp://127.0.0.1/default --proc=domainGetInfo --threads=16 \
 *       --warmup=0.5 --duration=3 --domain=test [--daemon-pid=PID]
 *
 * Opens ONE virConnect, starts --threads threads that each issue the procedure
 * back to back on it (libvirt's client is thread-safe and multiplexes them on
 * its one socket), lets them run for --warmup seconds, then counts the calls
 * completed during the next --duration seconds. Prints one JSON object, the
 * same fields as bench/rpc_baseline.py:
 *   {"proc", "threads", "connections", "calls", "seconds", "callsPerSec",
 *    "clientCpuSec", "clientRunqueueSec", "daemonCpuSec", "machineBusySec", "daemonBusiestThread",
 *    "errors"}
 * clientCpuSec is this process's CPU (all threads, getrusage) over the window; clientRunqueueSec
 * the time its threads were runnable but waited for a CPU (/proc/self/task/ * /schedstat).
 * Exits 1 if a call failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { PROC_LIB_VERSION, PROC_DOMAIN_INFO };

struct worker {
  virDomainPtr dom;
  /* one cache line each: the counters are written by their thread only */
  _Alignas(64) atomic_long count;
};

static virConnectPtr conn;
static int proc = -1;
static atomic_int stop;
static atomic_int failed;
static char first_error[512];
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;

static void quiet(void *ud, virErrorPtr err) {
  (void)ud;
  (void)err;
}

static void record_error(const char *what) {
  virErrorPtr e = virGetLastError();
  pthread_mutex_lock(&error_lock);
  if (!failed)
    snprintf(first_error, sizeof first_error, "%s: %s", what, e && e->message ? e->message : "?");
  atomic_store(&failed, 1);
  pthread_mutex_unlock(&error_lock);
}

static int one_call(struct worker *w) {
  if (proc == PROC_LIB_VERSION) {
    unsigned long v;
    return virConnectGetLibVersion(conn, &v);
  }
  virDomainInfo info;
  return virDomainGetInfo(w->dom, &info);
}

static void *run(void *arg) {
  struct worker *w = arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    if (one_call(w) < 0) {
      record_error(proc == PROC_LIB_VERSION ? "virConnectGetLibVersion" : "virDomainGetInfo");
      atomic_store(&stop, 1);
      break;
    }
    atomic_fetch_add_explicit(&w->count, 1, memory_order_relaxed);
  }
  return NULL;
}

static double now_sec(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double self_cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* utime + stime in seconds from a /proc .../stat file, and the name in parentheses; -1 if unreadable */
static double stat_cpu(const char *path, char *name, size_t name_len) {
  char buf[1024];
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *open = strchr(buf, '('), *close = strrchr(buf, ')');
  if (!open || !close) return -1;
  if (name) {
    size_t len = (size_t)(close - open - 1);
    if (len >= name_len) len = name_len - 1;
    memcpy(name, open + 1, len);
    name[len] = 0;
  }
  /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
  char *p = close + 2;
  unsigned long long utime = 0, stime = 0;
  for (int field = 0; field < 13 && p; field++) {
    if (field == 11) utime = strtoull(p, NULL, 10);
    if (field == 12) stime = strtoull(p, NULL, 10);
    p = strchr(p, ' ');
    if (p) p++;
  }
  return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/* Seconds this process's threads spent runnable but waiting for a CPU (schedstat's second field). */
static double self_runqueue_wait(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  double sum = 0;
  struct dirent *e;
  char path[300];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    unsigned long long run = 0, wait = 0;
    if (fscanf(f, "%llu %llu", &run, &wait) == 2) sum += wait / 1e9;
    fclose(f);
  }
  closedir(d);
  return sum;
}

static double machine_busy(void) {
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return -1;
  unsigned long long v[8] = {0};
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                 &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  if (n != 8) return -1;
  /* idle (3) and iowait (4) are not busy */
  return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / sysconf(_SC_CLK_TCK);
}

#define MAX_THREADS 4096
struct thread_sample {
  long tid;
  double sec;
  char name[64];
};

static int threads_cpu(int pid, struct thread_sample *out) {
  char path[320];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < MAX_THREADS) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/%d/task/%s/stat", pid, e->d_name);
    double sec = stat_cpu(path, out[n].name, sizeof out[n].name);
    if (sec < 0) continue; /* the thread ended */
    out[n].tid = atol(e->d_name);
    out[n].sec = sec;
    n++;
  }
  closedir(d);
  return n;
}

static const char *arg(int argc, char **argv, const char *name) {
  size_t len = strlen(name);
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') return argv[i] + len + 1;
  return NULL;
}

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

int main(int argc, char **argv) {
  const char *uri = arg(argc, argv, "--uri");
  const char *proc_name = arg(argc, argv, "--proc");
  const char *domain = arg(argc, argv, "--domain");
  const char *s;
  int threads = (s = arg(argc, argv, "--threads")) ? atoi(s) : 1;
  double warmup = (s = arg(argc, argv, "--warmup")) ? atof(s) : 0.5;
  double duration = (s = arg(argc, argv, "--duration")) ? atof(s) : 3.0;
  int daemon_pid = (s = arg(argc, argv, "--daemon-pid")) ? atoi(s) : 0;
  if (!uri || !proc_name || threads < 1 || threads > 1024 || duration <= 0) {
    fprintf(stderr, "usage: %s --uri=URI --proc=connectGetLibVersion|domainGetInfo "
                    "[--threads=N] [--warmup=S] [--duration=S] [--domain=NAME] [--daemon-pid=PID]\n",
            argv[0]);
    return 2;
  }
  if (strcmp(proc_name, "connectGetLibVersion") == 0) proc = PROC_LIB_VERSION;
  else if (strcmp(proc_name, "domainGetInfo") == 0) proc = PROC_DOMAIN_INFO;
  else {
    fprintf(stderr, "unknown --proc=%s\n", proc_name);
    return 2;
  }
  if (proc == PROC_DOMAIN_INFO && !domain) domain = "test";

  virSetErrorFunc(NULL, quiet);
  conn = virConnectOpen(uri);
  if (!conn) {
    fprintf(stderr, "cannot open %s: %s\n", uri, virGetLastErrorMessage());
    return 1;
  }
  struct worker *w = aligned_alloc(64, sizeof *w * (size_t)threads);
  pthread_t *tids = calloc((size_t)threads, sizeof *tids);
  for (int i = 0; i < threads; i++) {
    w[i].dom = NULL;
    atomic_init(&w[i].count, 0);
    if (proc == PROC_DOMAIN_INFO) {
      /* one virDomain per thread, looked up before anything is timed */
      w[i].dom = virDomainLookupByName(conn, domain);
      if (!w[i].dom) {
        fprintf(stderr, "cannot find domain %s: %s\n", domain, virGetLastErrorMessage());
        return 1;
      }
    }
    if (one_call(&w[i]) < 0) { /* prove the call works before timing it */
      fprintf(stderr, "%s fails: %s\n", proc_name, virGetLastErrorMessage());
      return 1;
    }
  }
  for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, run, &w[i]);

  struct timespec wait = {(time_t)warmup, (long)((warmup - (time_t)warmup) * 1e9)};
  nanosleep(&wait, NULL);
  static struct thread_sample th0[MAX_THREADS], th1[MAX_THREADS];
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", daemon_pid);
  double d0 = daemon_pid ? stat_cpu(path, NULL, 0) : -1;
  int n0 = daemon_pid ? threads_cpu(daemon_pid, th0) : -1;
  double m0 = machine_busy(), u0 = self_cpu(), q0 = self_runqueue_wait(), t0 = now_sec();
  long c0 = 0;
  for (int i = 0; i < threads; i++) c0 += atomic_load(&w[i].count);
  struct timespec window = {(time_t)duration, (long)((duration - (time_t)duration) * 1e9)};
  nanosleep(&window, NULL);
  long c1 = 0;
  for (int i = 0; i < threads; i++) c1 += atomic_load(&w[i].count);
  double t1 = now_sec(), u1 = self_cpu(), q1 = self_runqueue_wait(), m1 = machine_busy();
  int n1 = daemon_pid ? threads_cpu(daemon_pid, th1) : -1;
  double d1 = daemon_pid ? stat_cpu(path, NULL, 0) : -1;
  atomic_store(&stop, 1);
  for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
  for (int i = 0; i < threads; i++)
    if (w[i].dom) virDomainFree(w[i].dom);
  virConnectClose(conn);

  double seconds = t1 - t0;
  printf("{\"proc\": ");
  json_string(proc_name);
  printf(", \"threads\": %d, \"connections\": 1, \"calls\": %ld, \"seconds\": %.6f, "
         "\"callsPerSec\": %.3f, \"clientCpuSec\": %.6f",
         threads, c1 - c0, seconds, (c1 - c0) / seconds, u1 - u0);
  if (d0 >= 0 && d1 >= 0) printf(", \"daemonCpuSec\": %.3f", d1 - d0);
  else printf(", \"daemonCpuSec\": null");
  if (q0 >= 0 && q1 >= 0) printf(", \"clientRunqueueSec\": %.6f", q1 - q0);
  else printf(", \"clientRunqueueSec\": null");
  if (m0 >= 0 && m1 >= 0) printf(", \"machineBusySec\": %.3f", m1 - m0);
  else printf(", \"machineBusySec\": null");
  /* the daemon thread that used the most CPU over the window */
  int best = -1;
  double best_used = -1;
  if (n0 >= 0 && n1 >= 0) {
    for (int i = 0; i < n1; i++) {
      double before = 0;
      for (int j = 0; j < n0; j++)
        if (th0[j].tid == th1[i].tid) before = th0[j].sec;
      if (th1[i].sec - before > best_used) {
        best_used = th1[i].sec - before;
        best = i;
      }
    }
  }
  if (best >= 0) {
    printf(", \"daemonBusiestThread\": [");
    json_string(th1[best].name);
    printf(", %.3f]", best_used);
  } else printf(", \"daemonBusiestThread\": null");
  printf(", \"errors\": [");
  if (failed) json_string(first_error);
  printf("]}\n");
  return failed ? 1 : 0;
}
