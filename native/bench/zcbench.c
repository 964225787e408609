// zcbench: the C reference sender for `zcprobe bench`, and the bench's receiver (both roles
// always run as separate processes). The sender runs the loops of loops.c, transcriptions of
// harness/methods without the JS/N-API layer, so the harness can state its own overhead as
// harness/C throughput.
//   zcbench caps                                  -> {"iouringCompiled":..,"iouringSendZc":..}
//   zcbench recv --host H [--port P] [--ack N]    -> "port P", then one JSON report at EOF
//   zcbench send --method M --size N --total T --host H --port P [--pipe-size S] [--dir D]
// Protocol: the receiver writes 'A' after every N bytes (--ack: the app-ack safeguard) and 'D'
// after EOF, once it has read every byte; the sender's clock stops at 'D'.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "zcbench.h"

static const char *const METHOD_NAMES[M_COUNT] = {"write", "mmap-write", "sendfile", "splice", "vmsplice", "msg-zerocopy", "io-uring-zc"};

struct opts {
  const char *host, *method, *dir;
  long long port, size, total, pipe_size, ack;
};

void die(const char *what) {
  fprintf(stderr, "zcbench: %s: %s\n", what, strerror(errno));
  exit(1);
}

void usage(const char *msg, const char *arg) {
  fprintf(stderr, "zcbench: %s%s\n", msg, arg ? arg : "");
  exit(2);
}

int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Whole-process CPU (RUSAGE_SELF), as process.resourceUsage() measures the harness sender.
static void cpu_us(int64_t *user, int64_t *sys) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *user = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
  *sys = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

static long long num(const char *flag, const char *v) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno || *end || n < 0) usage("bad value for ", flag);
  return n;
}

static void parse(int argc, char **argv, struct opts *o) {
  for (int i = 2; i < argc; i += 2) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage("missing value for ", k);
    if (!strcmp(k, "--host")) o->host = v;
    else if (!strcmp(k, "--method")) o->method = v;
    else if (!strcmp(k, "--dir")) o->dir = v;
    else if (!strcmp(k, "--port")) o->port = num(k, v);
    else if (!strcmp(k, "--size")) o->size = num(k, v);
    else if (!strcmp(k, "--total")) o->total = num(k, v);
    else if (!strcmp(k, "--pipe-size")) o->pipe_size = num(k, v);
    else if (!strcmp(k, "--ack")) o->ack = num(k, v);
    else usage("unknown flag ", k);
  }
}

static socklen_t address(const char *host, long long port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (port > 65535) usage("--port out of range", NULL);
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    return sizeof *a4;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    return sizeof *a6;
  }
  usage("--host must be a numeric address: ", host);
  return 0;
}

static int do_recv(const struct opts *o) {
  struct sockaddr_storage ss;
  socklen_t len = address(o->host, o->port, &ss);
  int l = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (l < 0) die("socket");
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&ss, len) || listen(l, 1)) die("bind/listen");
  len = sizeof ss;
  if (getsockname(l, (struct sockaddr *)&ss, &len)) die("getsockname");
  // sin_port and sin6_port sit at the same offset.
  printf("port %d\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
  fflush(stdout);
  int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) die("accept");
  close(l);
  // One 1 MiB buffer, touched once: reads land in warm memory and are discarded.
  size_t cap = 1 << 20;
  char *buf = malloc(cap);
  if (!buf) die("malloc");
  memset(buf, 0, cap);
  int64_t u0, s0, u1, s1, t0 = now_ns();
  cpu_us(&u0, &s0);
  long long bytes = 0, reads = 0, in_msg = 0;
  for (;;) {
    // With --ack a read never crosses a message boundary, so the ack follows its last byte.
    size_t want = o->ack && (size_t)(o->ack - in_msg) < cap ? (size_t)(o->ack - in_msg) : cap;
    ssize_t n = read(c, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read");
    if (n == 0) break;
    bytes += n;
    reads++;
    if (o->ack && (in_msg += n) == o->ack) {
      in_msg = 0;
      if (send(c, "A", 1, MSG_NOSIGNAL) != 1) die("send ack");
    }
  }
  cpu_us(&u1, &s1);
  int64_t t1 = now_ns();
  if (send(c, "D", 1, MSG_NOSIGNAL) != 1) die("send done");
  printf("{\"bytes\":%lld,\"reads\":%lld,\"elapsedNs\":%lld,\"userUs\":%lld,\"sysUs\":%lld}\n", bytes, reads,
         (long long)(t1 - t0), (long long)(u1 - u0), (long long)(s1 - s0));
  close(c);
  return 0;
}

// Source of a run, as harness/methods/sources.ts makes it: anonymous pages (MADV_DONTFORK) or a
// file in --dir (tmpfs), mapped shared for mmap-write. Pattern A: i % 251 + 1.
static uint8_t *make_source(const struct opts *o, enum method m, int *file_fd) {
  size_t n = (size_t)o->size;
  uint8_t *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  madvise(p, n, MADV_DONTFORK);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i % 251 + 1);
  *file_fd = -1;
  if (m != M_MMAP_WRITE && m != M_SENDFILE && m != M_SPLICE) return p;
  char path[4096];
  snprintf(path, sizeof path, "%s/zcbench-XXXXXX", o->dir);
  int fd = mkstemp(path);
  if (fd < 0) die("mkstemp");
  unlink(path);
  for (size_t done = 0; done < n;) {
    ssize_t w = pwrite(fd, p + done, n - done, (off_t)done);
    if (w <= 0) die("pwrite");
    done += (size_t)w;
  }
  munmap(p, n);
  *file_fd = fd;
  if (m != M_MMAP_WRITE) return NULL;
  p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap file");
  return p;
}

static int do_send(const struct opts *o) {
  int m = 0;
  while (m < M_COUNT && (!o->method || strcmp(o->method, METHOD_NAMES[m]))) m++;
  if (m == M_COUNT) usage("--method must be one of write, mmap-write, sendfile, splice, vmsplice, msg-zerocopy, io-uring-zc", NULL);
  if (!o->host || !o->port || !o->size || !o->total) usage("send needs --host, --port, --size and --total", NULL);
  if (m == M_IO_URING_ZC && !uring_compiled()) {
    fprintf(stderr, "zcbench: io-uring-zc: built without liburing\n");
    return 3;
  }
  int file_fd, pipe_fds[2] = {-1, -1};
  uint8_t *p = make_source(o, (enum method)m, &file_fd);
  size_t cap = 0, n = (size_t)o->size;
  if (m == M_SPLICE || m == M_VMSPLICE) {
    if (pipe2(pipe_fds, O_CLOEXEC)) die("pipe2");
    int got = fcntl(pipe_fds[1], F_SETPIPE_SZ, (int)o->pipe_size);
    if (got < 0) die("F_SETPIPE_SZ");
    cap = (size_t)got;
  }
  struct sockaddr_storage ss;
  socklen_t len = address(o->host, o->port, &ss);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) die("connect");
  if (m == M_MSG_ZEROCOPY && setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one)) die("SO_ZEROCOPY");
  if (m == M_IO_URING_ZC) uring_init();
  long long msgs = (o->total + o->size - 1) / o->size;
  struct stats st = {0};
  int64_t u0, s0, u1, s1, t0 = now_ns();
  cpu_us(&u0, &s0);
  for (long long i = 0; i < msgs; i++) {
    switch (m) {
      case M_WRITE: case M_MMAP_WRITE: write_all(fd, p, n, &st); break;
      case M_SENDFILE: sendfile_all(fd, file_fd, n, &st); break;
      case M_SPLICE: via_pipe(fd, pipe_fds, cap, file_fd, NULL, n, &st); break;
      case M_VMSPLICE: via_pipe(fd, pipe_fds, cap, -1, p, n, &st); break;
      case M_MSG_ZEROCOPY: msg_zerocopy(fd, p, n, &st); break;
      case M_IO_URING_ZC: uring_send_zc(fd, p, n, &st); break;
    }
  }
  if (shutdown(fd, SHUT_WR)) die("shutdown");
  char b = 0;
  while (b != 'D') {
    ssize_t r = read(fd, &b, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) usage("receiver closed before reporting done", NULL);
  }
  wait_zc(fd, (enum method)m, &st);
  cpu_us(&u1, &s1);
  int64_t t1 = now_ns();
  printf("{\"method\":\"%s\",\"bytes\":%lld,\"messages\":%lld,\"calls\":%lld,\"shortCounts\":%lld,\"elapsedNs\":%lld,"
         "\"userUs\":%lld,\"sysUs\":%lld,\"zcExpected\":%lld,\"zcReceived\":%lld,\"zcCopied\":%lld}\n",
         METHOD_NAMES[m], msgs * o->size, msgs, st.calls, st.shorts, (long long)(t1 - t0), (long long)(u1 - u0),
         (long long)(s1 - s0), st.zc_expected, st.zc_received, st.zc_copied);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  struct opts o = {.host = "127.0.0.1", .dir = "/dev/shm", .pipe_size = 65536};
  const char *cmd = argc > 1 ? argv[1] : "";
  parse(argc, argv, &o);
  if (!strcmp(cmd, "caps")) {
    printf("{\"iouringCompiled\":%s,\"iouringSendZc\":%s}\n", uring_compiled() ? "true" : "false",
           uring_probe_send_zc() ? "true" : "false");
    return 0;
  }
  if (!strcmp(cmd, "recv")) return do_recv(&o);
  if (!strcmp(cmd, "send")) return do_send(&o);
  usage("usage: zcbench caps | recv --host H [--port P] [--ack N] | send --method M --size N --total T --host H --port P [--pipe-size S] [--dir D]", NULL);
  return 2;
}
