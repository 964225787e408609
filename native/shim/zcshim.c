// zcshim: the LD_PRELOAD shim of `zcprobe wrap`. It logs every send of the program (the bytes at the
// call, in stream order), the release points the program uses, and anything that touches bytes still in flight.
// Only the program's own address space can say which line reused a buffer; zcprobe proves the damage on the wire.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* node-gyp builds with 64-bit file offsets, which renames open/sendfile/pwrite to their *64 twins; both are wrapped */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#ifdef ZCSHIM_HAVE_LIBURING
#include <liburing.h>
#endif

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

#define PG 4096UL
#define MAX_FDS 65536
#define MAX_RANGES 65536
#define MAX_PIPES 256
#define MAX_SEGS 1024
#define PAGE_SLOTS (1u << 18)      /* hash of pages we changed the protection of: 1 GiB in flight */
#define STEP_PAGES 4               /* pages one single-stepped instruction may touch */
#define FAULT_BUDGET 8             /* step-faults per page between sync points, then the page waits for one */
#define MAX_SITES 4096
#define BT_DEPTH 32
#define DEFAULT_CAP (256ULL << 20) /* snapshot bytes per process unless ZCSHIM_CAP says otherwise */

/* ---------- real functions ---------- */
#define REAL(name) static __typeof__(name) *real_##name
REAL(send); REAL(sendto); REAL(sendmsg); REAL(write); REAL(writev); REAL(pwrite); REAL(pwrite64); REAL(pwritev);
REAL(sendfile); REAL(sendfile64); REAL(splice); REAL(vmsplice); REAL(tee); REAL(read); REAL(readv); REAL(pread);
REAL(recv); REAL(recvfrom); REAL(recvmsg); REAL(close); REAL(free); REAL(realloc); REAL(munmap); REAL(madvise);
REAL(ftruncate); REAL(ftruncate64); REAL(truncate); REAL(fallocate); REAL(open); REAL(open64); REAL(openat);
REAL(accept); REAL(accept4); REAL(poll); REAL(epoll_wait); REAL(getsockopt); REAL(sigaction); REAL(signal);
REAL(pthread_create); REAL(dup2); REAL(dup3); REAL(socket); REAL(pipe); REAL(pipe2);
#ifdef ZCSHIM_HAVE_LIBURING
REAL(io_uring_submit); REAL(io_uring_submit_and_wait); REAL(io_uring_submit_and_wait_timeout);
REAL(__io_uring_get_cqe); REAL(io_uring_wait_cqes); REAL(io_uring_wait_cqe_timeout); REAL(io_uring_peek_batch_cqe);
REAL(io_uring_queue_exit); REAL(io_uring_queue_init); REAL(io_uring_queue_init_params);
#endif

static int resolving, resolved;
static void resolve_all(void) {
  if (resolved) return;
  resolving = 1;
#define R(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)
  R(send); R(sendto); R(sendmsg); R(write); R(writev); R(pwrite); R(pwrite64); R(pwritev); R(sendfile); R(sendfile64);
  R(splice); R(vmsplice); R(tee); R(read); R(readv); R(pread); R(recv); R(recvfrom); R(recvmsg); R(close); R(free);
  R(realloc); R(munmap); R(madvise); R(ftruncate); R(ftruncate64); R(truncate); R(fallocate); R(open); R(open64);
  R(openat); R(accept); R(accept4); R(poll); R(epoll_wait); R(getsockopt); R(sigaction); R(signal); R(pthread_create);
  R(dup2); R(dup3); R(socket); R(pipe); R(pipe2);
#ifdef ZCSHIM_HAVE_LIBURING
  R(io_uring_submit); R(io_uring_submit_and_wait); R(io_uring_submit_and_wait_timeout); R(__io_uring_get_cqe);
  R(io_uring_wait_cqes); R(io_uring_wait_cqe_timeout); R(io_uring_peek_batch_cqe); R(io_uring_queue_exit);
  R(io_uring_queue_init); R(io_uring_queue_init_params);
#endif
#undef R
  resolving = 0;
  resolved = 1;
}
/* Other libraries' constructors may call a wrapper before the shim's own constructor ran. */
#define INIT() do { if (__builtin_expect(!resolved, 0)) resolve_all(); } while (0)

/* ---------- state ---------- */
enum { FD_UNKNOWN = 0, FD_TCP, FD_PIPE, FD_FILE, FD_OTHER };
struct fdst {
  uint8_t kind, zc_checked, zc_on, eof;
  uint32_t conn;        /* connection number of a TCP socket, 0 before its first logged event */
  uint64_t off;         /* bytes logged on the stream so far */
  uint32_t zc_next;     /* the kernel's next MSG_ZEROCOPY id on this socket */
  uint64_t dev, ino;    /* files and pipes */
};

enum { RK_ZC = 1, RK_SEND_ZC, RK_SENDMSG_ZC, RK_VMSPLICE, RK_FILE };
static const char *const RK_NAME[] = {"", "msg_zerocopy", "send_zc", "sendmsg_zc", "vmsplice", "file"};
struct range {
  uint64_t id;
  uint8_t kind, unmapped, freed, closed;
  uintptr_t addr; size_t len;          /* memory ranges */
  uint64_t dev, ino, foff;             /* file ranges */
  int fd; uint32_t zc;                 /* MSG_ZEROCOPY: socket and id */
  void *ring; uint64_t user_data;      /* io_uring */
  uint32_t conns[4]; uint8_t nconns;   /* sockets its bytes went to (vmsplice, file) */
  uint32_t pipe_refs;                  /* pipe segments still holding it */
  /* io_uring: the snapshot waits for the result CQE (how much was sent); the range is protected since
   * the submit, so its bytes cannot change unseen, and a fault before the result takes it first */
  uint8_t snap_pending; int64_t data; uint32_t sconn;
};

enum { SEG_COPY = 1, SEG_RANGE, SEG_UNKNOWN };
struct seg { uint8_t kind; int64_t data; uint64_t range, roff; size_t len; };
struct pipest { uint64_t ino; int used; struct seg segs[MAX_SEGS]; int head, n; };

/* PS_LINGER: still read-only, but no range needs it. mprotect costs a TLB shootdown (on this project's
 * paravirtualized VMs, a hypercall of about 90 µs), so pages a release or a short send gives back, and the
 * rest of a buffer a partial send was asked for, stay protected: the next send from them needs no call,
 * and the program's first write to one opens its whole run at once (one fault, one mprotect). */
enum { PS_NONE = 0, PS_PROT, PS_DIRTY, PS_TOMB, PS_STEP, PS_LINGER };
#define AHEAD_MAX (16u << 20)      /* how far past what a partial send took the rest of its buffer is protected */
#define MAX_DIRTY 8192
struct pageslot { uintptr_t page; uint32_t state, faults; };

static struct fdst *fds;
static struct range *ranges;
static int nranges;
static struct pipest *pipes;
static struct pageslot *pages;
static uint64_t next_range = 1;
static uint32_t next_conn = 1;
static int log_fd = -1, data_fd = -1;
static char log_prefix[512];
static _Atomic uint64_t data_off;
static uint64_t cap = DEFAULT_CAP;
static int cap_logged;
static int protect_on = 1;
static int linger_on = 1;  /* ZCSHIM_LINGER=0: pages no range needs are opened at once, as before */
static uint64_t stat_faults, stat_shared, stat_dropped, stat_bytes, stat_sync, stat_linger, stat_ahead;
static uintptr_t shim_lo, shim_hi;
static uintptr_t sites[MAX_SITES];
static int nsites;
static int maps_dumped;
static int ready, exited;
static uintptr_t dirty[MAX_DIRTY];
static int ndirty, dirty_overflow;

/* One lock: wrappers never hold it across a real call (a blocking send must not stall a fault in another thread). */
static atomic_int lk_owner;
static __thread __attribute__((tls_model("initial-exec"))) int my_tid;
static __thread __attribute__((tls_model("initial-exec"))) int in_shim;
static int tid(void) { if (!my_tid) my_tid = (int)syscall(SYS_gettid); return my_tid; }
/* 0: this thread already holds it (a signal handler interrupted the shim): the caller skips tracking */
static int lock(void) {
  int me = tid(), z = 0;
  if (atomic_load(&lk_owner) == me) return 0;
  while (!atomic_compare_exchange_weak(&lk_owner, &z, me)) { z = 0; sched_yield(); }
  in_shim++;
  return 1;
}
static void unlock(void) { in_shim--; atomic_store(&lk_owner, 0); }

static void *map_zero(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* ---------- a tiny formatter: no malloc, usable in signal handlers ---------- */
struct lb { char b[8192]; int n; };
static void put(struct lb *l, const char *s) { while (*s && l->n < (int)sizeof l->b - 2) l->b[l->n++] = *s++; }
static void putu(struct lb *l, uint64_t v) {
  char t[24]; int i = 0;
  do { t[i++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (i && l->n < (int)sizeof l->b - 2) l->b[l->n++] = t[--i];
}
static void puti(struct lb *l, int64_t v) { if (v < 0) { put(l, "-"); putu(l, (uint64_t)(-v)); } else putu(l, (uint64_t)v); }
static void putx(struct lb *l, uint64_t v) {
  char t[20]; int i = 0;
  put(l, "\"0x");
  do { t[i++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
  while (i && l->n < (int)sizeof l->b - 2) l->b[l->n++] = t[--i];
  put(l, "\"");
}
static void putjs(struct lb *l, const char *s) {
  put(l, "\"");
  for (; *s && l->n < (int)sizeof l->b - 8; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { l->b[l->n++] = '\\'; l->b[l->n++] = (char)c; }
    else if (c < 0x20) { put(l, "\\u00"); l->b[l->n++] = "0123456789abcdef"[c >> 4]; l->b[l->n++] = "0123456789abcdef"[c & 15]; }
    else l->b[l->n++] = (char)c;
  }
  put(l, "\"");
}
static void kv_u(struct lb *l, const char *k, uint64_t v) { put(l, ",\""); put(l, k); put(l, "\":"); putu(l, v); }
static void kv_i(struct lb *l, const char *k, int64_t v) { put(l, ",\""); put(l, k); put(l, "\":"); puti(l, v); }
static void kv_x(struct lb *l, const char *k, uint64_t v) { put(l, ",\""); put(l, k); put(l, "\":"); putx(l, v); }
static void kv_s(struct lb *l, const char *k, const char *v) { put(l, ",\""); put(l, k); put(l, "\":"); putjs(l, v); }
static void kv_t(struct lb *l) {
  struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
  put(l, ",\"t\":"); putu(l, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000); put(l, ".");
  uint64_t us = ((uint64_t)ts.tv_nsec / 1000) % 1000; if (us < 100) put(l, "0"); if (us < 10) put(l, "0"); putu(l, us);
}
static void begin(struct lb *l, const char *ev) { l->n = 0; put(l, "{\"ev\":\""); put(l, ev); put(l, "\""); }
static void emit(struct lb *l) {
  put(l, "}\n");
  if (log_fd >= 0) syscall(SYS_write, log_fd, l->b, (size_t)l->n);
}

/* ---------- snapshots: bytes at the call, in a data file, bounded by the cap ---------- */
static int64_t reserve(size_t n, const char *what) {
  uint64_t off = atomic_fetch_add(&data_off, n);
  if (off + n > cap) {
    stat_dropped += n;
    if (!cap_logged) {
      cap_logged = 1;
      struct lb l; begin(&l, "cap"); kv_u(&l, "cap", cap); kv_s(&l, "what", what); kv_t(&l); emit(&l);
    }
    return -1;
  }
  stat_bytes += n;
  return (int64_t)off;
}
static int64_t snap(const void *p, size_t n, const char *what) {
  if (data_fd < 0) return -1;
  int64_t off = reserve(n, what);
  if (off < 0) return -1;
  size_t done = 0;
  while (done < n) {
    long w = syscall(SYS_pwrite64, data_fd, (const char *)p + done, n - done, off + (int64_t)done);
    if (w <= 0) return -1;  /* EFAULT: memory no longer mapped */
    done += (size_t)w;
  }
  return off;
}
static int64_t snap_file(int fd, uint64_t foff, size_t n) {
  if (data_fd < 0) return -1;
  int64_t off = reserve(n, "file snapshot");
  if (off < 0) return -1;
  loff_t in = (loff_t)foff, out = off;
  size_t done = 0;
  while (done < n) {
    ssize_t c = copy_file_range(fd, &in, data_fd, &out, n - done, 0);
    if (c <= 0) break;
    done += (size_t)c;
  }
  if (done < n) {  /* copy_file_range refused (e.g. EXDEV on old kernels): pread through a bounce buffer */
    static char *bounce;
    if (!bounce) bounce = map_zero(1 << 16);
    while (bounce && done < n) {
      size_t k = n - done < (1 << 16) ? n - done : (1 << 16);
      long r = syscall(SYS_pread64, fd, bounce, k, (int64_t)(foff + done));
      if (r <= 0) return -1;
      syscall(SYS_pwrite64, data_fd, bounce, (size_t)r, off + (int64_t)done);
      done += (size_t)r;
    }
  }
  return done == n ? off : -1;
}

/* ---------- maps and backtraces (resolved to file:line by zcprobe with addr2line) ---------- */
static void dump_maps(void) {
  char path[600];
  int n = 0;
  for (const char *s = log_prefix; *s && n < 580; s++) path[n++] = *s;
  memcpy(path + n, ".maps", 6);
  int out = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int in = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
  if (out >= 0 && in >= 0) {
    char buf[4096];
    long r;
    syscall(SYS_write, out, "--\n", 3);
    while ((r = syscall(SYS_read, in, buf, sizeof buf)) > 0) syscall(SYS_write, out, buf, (size_t)r);
  }
  if (in >= 0) syscall(SYS_close, in);
  if (out >= 0) syscall(SYS_close, out);
}
static int in_shim_text(uintptr_t a) { return a >= shim_lo && a < shim_hi; }
/* Logs a site once per address; frames inside the shim are left out. Returns the site's key. */
static uintptr_t site(void **frames, int n, uintptr_t exact_ip) {
  int from = 0;
  if (exact_ip) {
    for (from = 0; from < n && (uintptr_t)frames[from] != exact_ip; from++) {}
    if (from == n) from = -1;
  } else {
    while (from < n && in_shim_text((uintptr_t)frames[from])) from++;
    /* libc's own wrappers (e.g. a fortified memcpy) stay: they are frames of the program's call */
  }
  uintptr_t key = exact_ip ? exact_ip : (from < n ? (uintptr_t)frames[from] : 0);
  for (int i = 0; i < nsites; i++) if (sites[i] == key) return key;
  if (nsites < MAX_SITES) sites[nsites++] = key;
  if (!maps_dumped) { maps_dumped = 1; dump_maps(); }
  struct lb l; begin(&l, "site"); kv_x(&l, "ip", key); put(&l, ",\"exact\":"); put(&l, exact_ip ? "1" : "0");
  put(&l, ",\"bt\":[");
  int first = 1;
  if (from < 0) { putx(&l, exact_ip); first = 0; from = 0; }
  /* the shim's own frames (a wrapper the program called, the signal handler) are not the program's */
  for (int i = from; i < n; i++) {
    if (in_shim_text((uintptr_t)frames[i]) && !(exact_ip && (uintptr_t)frames[i] == exact_ip)) continue;
    if (!first) put(&l, ",");
    putx(&l, (uintptr_t)frames[i]);
    first = 0;
  }
  put(&l, "]");
  emit(&l);
  return key;
}
static uintptr_t here(void) {
  void *frames[BT_DEPTH];
  int n = backtrace(frames, BT_DEPTH);
  return site(frames, n, 0);
}

/* ---------- fds, connections ---------- */
static void fmt_addr(struct lb *l, const char *k, struct sockaddr_storage *ss) {
  char t[64]; int n = 0;
  if (ss->ss_family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    const uint8_t *a = (const uint8_t *)&s->sin_addr;
    struct lb x; x.n = 0;
    for (int i = 0; i < 4; i++) { if (i) put(&x, "."); putu(&x, a[i]); }
    put(&x, ":"); putu(&x, ntohs(s->sin_port)); x.b[x.n] = 0;
    kv_s(l, k, x.b);
  } else if (ss->ss_family == AF_INET6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    const uint8_t *a = s->sin6_addr.s6_addr;
    /* full form, zcprobe normalizes it */
    t[n++] = '[';
    for (int i = 0; i < 16; i += 2) {
      if (i) t[n++] = ':';
      t[n++] = "0123456789abcdef"[a[i] >> 4]; t[n++] = "0123456789abcdef"[a[i] & 15];
      t[n++] = "0123456789abcdef"[a[i + 1] >> 4]; t[n++] = "0123456789abcdef"[a[i + 1] & 15];
    }
    t[n++] = ']'; t[n] = 0;
    struct lb x; x.n = 0; put(&x, t); put(&x, ":"); putu(&x, ntohs(s->sin6_port)); x.b[x.n] = 0;
    kv_s(l, k, x.b);
  } else kv_s(l, k, "?");
}

static struct fdst *fdinfo(int fd) {
  if (fd < 0 || fd >= MAX_FDS || !fds) return NULL;
  struct fdst *f = &fds[fd];
  if (f->kind != FD_UNKNOWN) return f;
  struct stat st;
  if (syscall(SYS_fstat, fd, &st) != 0) return NULL;
  f->dev = st.st_dev; f->ino = st.st_ino;
  if (S_ISSOCK(st.st_mode)) {
    int type = 0, dom = 0; socklen_t sl = sizeof type;
    real_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl);
    sl = sizeof dom;
    real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &sl);
    f->kind = (type == SOCK_STREAM && (dom == AF_INET || dom == AF_INET6)) ? FD_TCP : FD_OTHER;
  } else if (S_ISFIFO(st.st_mode)) f->kind = FD_PIPE;
  else if (S_ISREG(st.st_mode)) f->kind = FD_FILE;
  else f->kind = FD_OTHER;
  return f;
}
static struct fdst *tcp(int fd) { struct fdst *f = fdinfo(fd); return f && f->kind == FD_TCP ? f : NULL; }
static uint32_t conn_of(int fd, struct fdst *f) {
  if (f->conn) return f->conn;
  f->conn = next_conn++;
  f->off = 0; f->zc_next = 0; f->eof = 0;
  struct sockaddr_storage a, b; socklen_t la = sizeof a, lb_ = sizeof b;
  memset(&a, 0, sizeof a); memset(&b, 0, sizeof b);
  getsockname(fd, (struct sockaddr *)&a, &la);
  getpeername(fd, (struct sockaddr *)&b, &lb_);
  struct lb l; begin(&l, "conn"); kv_u(&l, "conn", f->conn); kv_i(&l, "fd", fd);
  fmt_addr(&l, "local", &a); fmt_addr(&l, "peer", &b); kv_t(&l); emit(&l);
  return f->conn;
}
static void forget_fd(int fd) { if (fd >= 0 && fd < MAX_FDS && fds) memset(&fds[fd], 0, sizeof fds[fd]); }

/* ---------- pages: write protection of in-flight memory ---------- */
static struct pageslot *slot(uintptr_t page, int create) {
  if (!pages) return NULL;
  uint32_t h = (uint32_t)((page >> 12) * 2654435761u) & (PAGE_SLOTS - 1);
  struct pageslot *tomb = NULL;
  for (uint32_t i = 0; i < PAGE_SLOTS; i++, h = (h + 1) & (PAGE_SLOTS - 1)) {
    struct pageslot *s = &pages[h];
    if (s->state == PS_NONE && s->page == 0) {
      if (!create) return NULL;
      if (tomb) s = tomb;
      s->page = page; s->faults = 0;
      return s;
    }
    if (s->state == PS_TOMB && !tomb) tomb = s;
    if (s->page == page && s->state != PS_TOMB) return s;
  }
  return create ? tomb : NULL;
}
static int live_mem_on_page(uintptr_t page) {
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (r->kind == RK_FILE || r->unmapped) continue;
    if (r->addr < page + PG && r->addr + r->len > page) return 1;
  }
  return 0;
}
static void protect_page(uintptr_t page) {
  struct pageslot *s = slot(page, 1);
  if (!s || s->state == PS_PROT) return;
  if (s->state == PS_LINGER) { s->state = PS_PROT; s->faults = 0; return; }
  if (mprotect((void *)page, PG, PROT_READ) == 0) { s->state = PS_PROT; s->faults = 0; }
  else { s->state = PS_TOMB; }
}
static void mark_protected(uintptr_t lo, uintptr_t hi, uint32_t state) {
  if (mprotect((void *)lo, hi - lo, PROT_READ) != 0) return;
  for (uintptr_t q = lo; q < hi; q += PG) {
    struct pageslot *t = slot(q, 1);
    if (!t) { mprotect((void *)q, hi - q, PROT_READ | PROT_WRITE); return; }  /* table full: not tracked, not protected */
    t->state = state;
    t->faults = 0;
  }
}
/* One mprotect per run of pages (page by page would split the mapping into many). */
static void protect_range(struct range *r) {
  if (!protect_on || r->kind == RK_FILE || !r->len) return;
  uintptr_t run = 0, p;
  for (p = r->addr & ~(PG - 1); p < r->addr + r->len; p += PG) {
    struct pageslot *s = slot(p, 1);
    if (s && s->state == PS_LINGER) { s->state = PS_PROT; s->faults = 0; }  /* still read-only: no call */
    int need = s && s->state != PS_PROT && s->state != PS_STEP && s->state != PS_DIRTY;
    if (need && !run) run = p;
    if (!need && run) { mark_protected(run, p, PS_PROT); run = 0; }
    if (need && s->state != PS_NONE) s->state = PS_NONE;
  }
  if (run) mark_protected(run, p, PS_PROT);
}
/* The rest of a buffer a partial zero-copy call was asked to send, [lo, hi) (page-aligned, at most AHEAD_MAX):
 * read-only ahead of the calls that will take it, one mprotect now instead of one per call. Not in flight:
 * a write there opens its run (on_segv) and is no finding. */
static void protect_ahead(uintptr_t lo, uintptr_t hi) {
  if (!protect_on || !linger_on || !pages || hi <= lo) return;
  /* a program that writes ahead of its sends (filling the next chunk) would pay a fault per call: stop */
  if (stat_linger * 4 > stat_ahead + 8) return;
  if (hi - lo > AHEAD_MAX) hi = lo + AHEAD_MAX;
  /* still half a window ahead from the last time: nothing to do (else each call would add one chunk at the
   * far end, one mprotect per call again); otherwise the window is renewed in one call */
  struct pageslot *m = slot((lo + (hi - lo) / 2) & ~(PG - 1), 0);
  if (m && (m->state == PS_LINGER || m->state == PS_PROT)) return;
  uintptr_t run = 0, p;
  for (p = lo; p < hi; p += PG) {
    struct pageslot *s = slot(p, 0);
    int need = !s || s->state == PS_NONE || s->state == PS_TOMB;
    if (need && !run) run = p;
    if (!need && run) { mark_protected(run, p, PS_LINGER); stat_ahead++; run = 0; }
  }
  if (run) { mark_protected(run, p, PS_LINGER); stat_ahead++; }
}
static void ahead_of(const struct iovec *iov, int iovcnt, size_t took) {
  for (int i = 0; i < iovcnt; i++) {
    if (took >= iov[i].iov_len) { took -= iov[i].iov_len; continue; }
    uintptr_t a = (uintptr_t)iov[i].iov_base, end = a + iov[i].iov_len;
    protect_ahead((a + took + PG - 1) & ~(PG - 1), end & ~(PG - 1));
    return;  /* the next call starts there */
  }
}
/* The program wrote to a lingering page: the run of lingering pages around it becomes writable (that page
 * alone if the run cannot be changed). 0: not even the page, and a retried write would fault for ever. */
static int open_linger(uintptr_t page) {
  uintptr_t lo = page, hi = page + PG;
  struct pageslot *s;
  while (lo > PG && hi - lo < AHEAD_MAX && (s = slot(lo - PG, 0)) && s->state == PS_LINGER) lo -= PG;
  while (hi - lo < 2 * AHEAD_MAX && (s = slot(hi, 0)) && s->state == PS_LINGER) hi += PG;
  if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0) {
    if (mprotect((void *)page, PG, PROT_READ | PROT_WRITE) != 0) return 0;
    lo = page; hi = page + PG;
  }
  for (uintptr_t q = lo; q < hi; q += PG) if ((s = slot(q, 0))) s->state = PS_TOMB;
  stat_linger++;
  return 1;
}
/* Memory leaving the program's hands (free, realloc, munmap): lingering pages there are opened (still
 * mapped) or forgotten (unmapped), so a new mapping at the same address is never taken as protected. */
static void forget_linger(uintptr_t a, size_t n, int unmapped) {
  if (!pages || !n) return;
  uintptr_t run = 0, q;
  for (q = a & ~(PG - 1); q < a + n; q += PG) {
    struct pageslot *s = slot(q, 0);
    int lingers = s && s->state == PS_LINGER;
    if (lingers) s->state = PS_TOMB;
    if (lingers && !run) run = q;
    if (!lingers && run) { if (!unmapped) mprotect((void *)run, q - run, PROT_READ | PROT_WRITE); run = 0; }
  }
  if (run && !unmapped) mprotect((void *)run, q - run, PROT_READ | PROT_WRITE);
}

/* ---------- ranges ---------- */
static struct range *range_by_id(uint64_t id) {
  for (int i = 0; i < nranges; i++) if (ranges[i].id == id) return &ranges[i];
  return NULL;
}
static struct range *new_range(int kind) {
  if (!ranges || nranges >= MAX_RANGES) return NULL;
  struct range *r = &ranges[nranges++];
  memset(r, 0, sizeof *r);
  r->id = next_range++; r->kind = (uint8_t)kind; r->fd = -1;
  return r;
}
static void log_range(struct range *r) {
  struct lb l; begin(&l, "range"); kv_u(&l, "range", r->id); kv_s(&l, "kind", RK_NAME[r->kind]);
  if (r->kind == RK_FILE) {
    kv_u(&l, "dev", r->dev); kv_u(&l, "ino", r->ino); kv_u(&l, "foff", r->foff);
  } else kv_x(&l, "addr", r->addr);
  kv_u(&l, "len", r->len);
  if (r->kind == RK_ZC) kv_u(&l, "zc", r->zc);
  if (r->ring) kv_x(&l, "userData", r->user_data);
  kv_u(&l, "protected", protect_on && r->kind != RK_FILE);
  kv_t(&l); emit(&l);
}
static int overlaps_mem(struct range *r, uintptr_t a, size_t n) {
  return r->kind != RK_FILE && !r->unmapped && r->addr < a + n && a < r->addr + r->len;
}
/* io_uring ranges whose snapshot waits for the result: taken now, before anything changes [a, a+n). */
static void take_pending(uintptr_t a, size_t n) {
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (!r->snap_pending || !overlaps_mem(r, a, n)) continue;
    r->data = snap((void *)r->addr, r->len, "zero-copy send");
    r->snap_pending = 0;
  }
}
static void write_event(struct range *r, size_t roff, size_t len, int64_t data, uintptr_t ip, const char *by, int zero) {
  struct lb l; begin(&l, "write"); kv_u(&l, "range", r->id); kv_u(&l, "roff", roff); kv_u(&l, "len", len);
  if (zero) kv_u(&l, "zero", 1); else kv_i(&l, "data", data);
  if (ip) kv_x(&l, "ip", ip);
  kv_s(&l, "by", by); kv_t(&l); emit(&l);
}
static void mark_dirty(struct pageslot *s) {
  s->state = PS_DIRTY;
  if (ndirty < MAX_DIRTY) dirty[ndirty++] = s->page;
  else dirty_overflow = 1;
}
static void dump_dirty_page(uintptr_t p) {
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (!overlaps_mem(r, p, PG)) continue;
    uintptr_t a = p > r->addr ? p : r->addr, b = p + PG < r->addr + r->len ? p + PG : r->addr + r->len;
    write_event(r, a - r->addr, b - a, snap((void *)a, b - a, "bytes written in flight"), 0, "sync", 0);
    stat_sync++;
  }
}
/* Dirty pages (left writable after their fault budget): their in-flight bytes now, then protected again. */
static void sync_dirty(void) {
  if (!pages || !protect_on || (!ndirty && !dirty_overflow)) return;
  if (dirty_overflow) {
    ndirty = 0;
    for (uint32_t i = 0; i < PAGE_SLOTS; i++) if (pages[i].state == PS_DIRTY) { if (ndirty < MAX_DIRTY) dirty[ndirty++] = pages[i].page; }
    dirty_overflow = 0;  /* whatever did not fit waits for the next sync point */
  }
  for (int k = 0; k < ndirty; k++) {
    struct pageslot *s = slot(dirty[k], 0);
    if (!s || s->state != PS_DIRTY) continue;
    dump_dirty_page(dirty[k]);
    s->state = PS_TOMB;
    s->faults = 0;
    if (live_mem_on_page(dirty[k])) protect_page(dirty[k]);
  }
  ndirty = 0;
}
/* Pages of [lo, hi) that no live range needs any more become writable (one mprotect per run); the bytes of
 * dirty ones are recorded first for the ranges in `gone` that covered them. */
static void open_span(uintptr_t lo, uintptr_t hi, const struct range *gone, int ngone) {
  struct range *near[64];
  int nnear = 0, many = 0;
  for (int i = 0; i < nranges; i++)
    if (overlaps_mem(&ranges[i], lo, hi - lo)) { if (nnear < 64) near[nnear++] = &ranges[i]; else many = 1; }
  uintptr_t run = 0, p;
  for (p = lo; p < hi; p += PG) {
    int keep = 0;
    if (many) keep = live_mem_on_page(p);
    else for (int i = 0; i < nnear && !keep; i++) keep = overlaps_mem(near[i], p, PG);
    struct pageslot *s = keep ? NULL : slot(p, 0);
    if (s && s->state == PS_DIRTY)
      for (int k = 0; k < ngone; k++) {
        const struct range *g = &gone[k];
        if (g->kind == RK_FILE || g->unmapped || g->addr >= p + PG || g->addr + g->len <= p) continue;
        uintptr_t a = p > g->addr ? p : g->addr, b = p + PG < g->addr + g->len ? p + PG : g->addr + g->len;
        write_event((struct range *)g, a - g->addr, b - a, snap((void *)a, b - a, "bytes written in flight"), 0, "sync", 0);
      }
    int prot = s && (s->state == PS_PROT || s->state == PS_LINGER);
    if (s) s->state = PS_TOMB;
    if (prot && !run) run = p;
    if (!prot && run) { mprotect((void *)run, p - run, PROT_READ | PROT_WRITE); run = 0; }
  }
  if (run) mprotect((void *)run, p - run, PROT_READ | PROT_WRITE);
}
/* Pages of [lo, hi) no live range needs, given back by a short send: read-only ones linger (no call);
 * writable ones (dirty, stepping) are simply forgotten, as open_span does. */
static void linger_span(uintptr_t lo, uintptr_t hi) {
  if (!linger_on) { open_span(lo, hi, NULL, 0); return; }
  for (uintptr_t p = lo; p < hi; p += PG) {
    if (live_mem_on_page(p)) continue;
    struct pageslot *s = slot(p, 0);
    if (s) s->state = s->state == PS_PROT || s->state == PS_LINGER ? PS_LINGER : PS_TOMB;  /* state = the page's protection */
  }
}
/* Takes a range out of the table (logging why); `out` keeps a copy. */
static void drop_range(struct range *r, const char *how, struct range *out) {
  struct lb l; begin(&l, "release"); kv_u(&l, "range", r->id); kv_s(&l, "how", how); kv_t(&l); emit(&l);
  *out = *r;
  *r = ranges[--nranges];
}
static void release_range(struct range *r, const char *how) {
  struct range copy;
  drop_range(r, how, &copy);
  if (copy.kind != RK_FILE && !copy.unmapped)
    open_span(copy.addr & ~(PG - 1), (copy.addr + copy.len + PG - 1) & ~(PG - 1), &copy, 1);
}

/* ---------- io_uring rings (liburing linked dynamically) ---------- */
#ifdef ZCSHIM_HAVE_LIBURING
#define MAX_RINGS 64
#define MAX_NOTIFS 4096
struct ringst { struct io_uring *ring; unsigned seen_tail, seen_head; };
static struct ringst rings[MAX_RINGS];
static int nrings;
struct notif { void *ring; uint64_t user_data; unsigned pos; int result_only; };
static struct notif notifs[MAX_NOTIFS];
static int nnotifs;
static struct ringst *ring_of(struct io_uring *ring) {
  for (int i = 0; i < nrings; i++) if (rings[i].ring == ring) return &rings[i];
  if (nrings >= MAX_RINGS) return NULL;
  struct ringst *s = &rings[nrings++];
  s->ring = ring;
  s->seen_tail = s->seen_head = *ring->cq.khead;
  if (ring->flags & IORING_SETUP_SQPOLL) {
    struct lb l; begin(&l, "note");
    kv_s(&l, "what", "io_uring ring with SQPOLL: its SQEs are seen when liburing flushes them in io_uring_submit*");
    emit(&l);
  }
  return s;
}
static void send_event(int fd, struct fdst *f, const char *call, size_t len, int64_t data, struct range *r, size_t roff);
/* The result CQE of a SEND_ZC: the bytes it sent join the stream (snapshotted now unless a write took it
 * earlier); the rest of the range was never in flight. */
static void sent_zc(struct range *r, int res) {
  size_t n = res > 0 ? ((size_t)res < r->len ? (size_t)res : r->len) : 0;
  if (r->snap_pending) { r->data = n ? snap((void *)r->addr, n, "zero-copy send") : -1; r->snap_pending = 0; }
  struct fdst *f = r->fd >= 0 && r->fd < MAX_FDS && fds && fds[r->fd].conn == r->sconn ? &fds[r->fd] : NULL;
  if (f && n) send_event(r->fd, f, r->kind == RK_SEND_ZC ? "send_zc" : "sendmsg_zc", n, r->data, r, 0);
  if (n < r->len) {  /* the unsent tail: lingering, as the next send usually starts there */
    uintptr_t end = r->addr + r->len;
    r->len = n;
    linger_span((r->addr + n + PG - 1) & ~(PG - 1), (end + PG - 1) & ~(PG - 1));
  }
}
static struct range *zc_range_of(void *ring, uint64_t ud) {
  for (int i = 0; i < nranges; i++)
    if (ranges[i].ring == ring && ranges[i].user_data == ud && (ranges[i].kind == RK_SEND_ZC || ranges[i].kind == RK_SENDMSG_ZC))
      return &ranges[i];
  return NULL;
}
/* CQEs the kernel posted since the last look, then those the program consumed (below *khead). */
static void scan_ring(struct ringst *s) {
  struct io_uring *ring = s->ring;
  unsigned tail = atomic_load_explicit((_Atomic unsigned *)ring->cq.ktail, memory_order_acquire);
  unsigned head = atomic_load_explicit((_Atomic unsigned *)ring->cq.khead, memory_order_acquire);
  unsigned entries = ring->cq.ring_entries, shift = (ring->flags & IORING_SETUP_CQE32) ? 1 : 0;
  if (tail - s->seen_tail > entries) {
    struct lb l; begin(&l, "blind");
    kv_s(&l, "what", "io_uring completions were overwritten before the shim saw them; some releases are unknown");
    emit(&l);
    s->seen_tail = tail - entries;
  }
  for (; s->seen_tail != tail; s->seen_tail++) {
    struct io_uring_cqe *c = &ring->cq.cqes[(s->seen_tail & ring->cq.ring_mask) << shift];
    struct range *r = zc_range_of(ring, c->user_data);
    if (!r) continue;
    if (c->flags & IORING_CQE_F_NOTIF) {
      if (nnotifs < MAX_NOTIFS) notifs[nnotifs++] = (struct notif){ring, c->user_data, s->seen_tail, 0};
    } else {
      if (c->res < 0 || (size_t)c->res != r->len) {
        struct lb l; begin(&l, "result"); kv_u(&l, "range", r->id); kv_i(&l, "res", c->res); emit(&l);
      }
      sent_zc(r, c->res);
      /* without F_MORE no notification follows: the result is the release */
      if (!(c->flags & IORING_CQE_F_MORE) && nnotifs < MAX_NOTIFS) notifs[nnotifs++] = (struct notif){ring, c->user_data, s->seen_tail, 1};
    }
  }
  for (int i = 0; i < nnotifs;) {
    struct notif *n = &notifs[i];
    if (n->ring == ring && (int)(head - n->pos) > 0) {
      struct range *r = zc_range_of(ring, n->user_data);
      if (r) release_range(r, n->result_only ? "uring-result" : "uring-notif");
      notifs[i] = notifs[--nnotifs];
    } else i++;
  }
  s->seen_head = head;
}
static void scan_rings(void) { for (int i = 0; i < nrings; i++) scan_ring(&rings[i]); }
#else
static void scan_rings(void) {}
#endif

/* The start of every wrapped call: consumed io_uring notifications, then dirty pages. */
static void sync_point(void) { scan_rings(); sync_dirty(); }

/* ---------- sends ---------- */
static void send_event(int fd, struct fdst *f, const char *call, size_t len, int64_t data, struct range *r, size_t roff) {
  uint32_t c = conn_of(fd, f);
  struct lb l; begin(&l, "send"); kv_u(&l, "conn", c); kv_i(&l, "fd", fd); kv_s(&l, "call", call);
  kv_u(&l, "off", f->off); kv_u(&l, "len", len); kv_i(&l, "data", data);
  if (r) { kv_u(&l, "range", r->id); kv_u(&l, "roff", roff); }
  kv_t(&l); emit(&l);
  f->off += len;
}
static void attach_conn(struct range *r, uint32_t conn) {
  for (int i = 0; i < r->nconns; i++) if (r->conns[i] == conn) return;
  if (r->nconns < 4) r->conns[r->nconns++] = conn;
}
/* A copying send: its bytes are the kernel's at once. */
static void log_copy(int fd, const char *call, const void *buf, size_t n) {
  struct fdst *f = tcp(fd);
  if (!f || !n) return;
  send_event(fd, f, call, n, snap(buf, n, call), NULL, 0);
}
static int zc_enabled(int fd, struct fdst *f) {
  if (!f->zc_checked) {
    int v = 0; socklen_t sl = sizeof v;
    f->zc_on = real_getsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &v, &sl) == 0 && v;
    f->zc_checked = 1;
  }
  return f->zc_on;
}

/* After a zero-copy call took n bytes: one range per iovec piece it took, snapshotted and protected.
 * Done after the call (the kernel may take far less than asked, e.g. a pipe's worth of a vmsplice);
 * only another thread could write in between, and that write is not attributed. */
struct pend { struct range *r[16]; int64_t data[16]; int n; };
static void zc_ranges(struct pend *p, const struct iovec *iov, int iovcnt, size_t n, int kind, int defer) {
  p->n = 0;
  for (int i = 0; i < iovcnt && n && p->n < 16; i++) {
    size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
    if (!k) continue;
    struct range *r = new_range(kind);
    if (!r) break;
    r->addr = (uintptr_t)iov[i].iov_base; r->len = k;
    p->data[p->n] = defer ? -1 : snap(iov[i].iov_base, k, "zero-copy send");
    r->snap_pending = (uint8_t)defer;
    p->r[p->n++] = r;
    protect_range(r);
    n -= k;
  }
}
static void zc_after(int fd, struct fdst *f, const struct iovec *iov, int iovcnt, ssize_t n, const char *call) {
  if (n <= 0) return;
  struct pend p;
  zc_ranges(&p, iov, iovcnt, (size_t)n, RK_ZC, 0);
  ahead_of(iov, iovcnt, (size_t)n);
  uint32_t zc = f->zc_next++;  /* one id per successful call, whatever it sent */
  for (int i = 0; i < p.n; i++) {
    struct range *r = p.r[i];
    r->fd = fd; r->zc = zc;
    attach_conn(r, conn_of(fd, f));
    log_range(r);
    send_event(fd, f, call, r->len, p.data[i], r, 0);
  }
}

static int want(void) { return ready && !in_shim; }

ssize_t send(int fd, const void *buf, size_t len, int flags) {
  INIT();
  if (!want()) return real_send(fd, buf, len, flags);
  if (!lock()) return real_send(fd, buf, len, flags);
  sync_point();
  struct fdst *f = tcp(fd);
  int zc = f && (flags & MSG_ZEROCOPY) && zc_enabled(fd, f);
  unlock();
  ssize_t n = real_send(fd, buf, len, flags);
  int e = errno;
  if (lock()) {
    struct iovec iov = {(void *)buf, len};
    if (zc) zc_after(fd, f, &iov, 1, n, "send");
    else if (n > 0) log_copy(fd, "send", buf, (size_t)n);
    unlock();
  }
  errno = e;
  return n;
}
ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tl) {
  INIT();
  if (!want() || !lock()) return real_sendto(fd, buf, len, flags, to, tl);
  sync_point();
  struct fdst *f = tcp(fd);
  int zc = f && (flags & MSG_ZEROCOPY) && zc_enabled(fd, f);
  unlock();
  ssize_t n = real_sendto(fd, buf, len, flags, to, tl);
  int e = errno;
  if (lock()) {
    struct iovec iov = {(void *)buf, len};
    if (zc) zc_after(fd, f, &iov, 1, n, "sendto");
    else if (n > 0) log_copy(fd, "sendto", buf, (size_t)n);
    unlock();
  }
  errno = e;
  return n;
}
static void log_iov(int fd, const char *call, const struct iovec *iov, int cnt, size_t n) {
  for (int i = 0; i < cnt && n; i++) {
    size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
    log_copy(fd, call, iov[i].iov_base, k);
    n -= k;
  }
}
ssize_t sendmsg(int fd, const struct msghdr *m, int flags) {
  INIT();
  if (!want() || !lock()) return real_sendmsg(fd, m, flags);
  sync_point();
  struct fdst *f = tcp(fd);
  int zc = f && (flags & MSG_ZEROCOPY) && zc_enabled(fd, f);
  unlock();
  ssize_t n = real_sendmsg(fd, m, flags);
  int e = errno;
  if (lock()) {
    if (zc) zc_after(fd, f, m->msg_iov, (int)m->msg_iovlen, n, "sendmsg");
    else if (n > 0) log_iov(fd, "sendmsg", m->msg_iov, (int)m->msg_iovlen, (size_t)n);
    unlock();
  }
  errno = e;
  return n;
}

/* ---------- pipes (vmsplice, splice, tee) ---------- */
static struct pipest *pipe_of(int fd, int create) {
  struct fdst *f = fdinfo(fd);
  if (!f || f->kind != FD_PIPE || !pipes) return NULL;
  for (int i = 0; i < MAX_PIPES; i++) if (pipes[i].used && pipes[i].ino == f->ino) return &pipes[i];
  if (!create) return NULL;
  for (int i = 0; i < MAX_PIPES; i++)
    if (!pipes[i].used) { pipes[i].used = 1; pipes[i].ino = f->ino; pipes[i].head = pipes[i].n = 0; return &pipes[i]; }
  return NULL;
}
static void push_seg(struct pipest *p, struct seg s) {
  if (p->n >= MAX_SEGS) return;  /* the overflow is logged as unknown bytes when spliced */
  p->segs[(p->head + p->n++) % MAX_SEGS] = s;
  if (s.kind == SEG_RANGE) { struct range *r = range_by_id(s.range); if (r) r->pipe_refs++; }
}
/* The first n bytes of a pipe: each piece goes to socket `to` (a send), to pipe `dup_to` (tee, splice
 * between pipes), or nowhere (spliced to a file: copied there). consume=0 (tee) leaves the pipe as it is. */
static void pop_segs(struct pipest *p, size_t n, int fd, struct fdst *to, const char *call, struct pipest *dup_to, int consume) {
  int idx = 0;
  size_t used = 0;
  while (n) {
    if (idx >= p->n) {  /* bytes the shim did not see enter the pipe */
      if (to) send_event(fd, to, call, n, -1, NULL, 0);
      if (dup_to) push_seg(dup_to, (struct seg){SEG_UNKNOWN, -1, 0, 0, n});
      return;
    }
    struct seg *s = &p->segs[(p->head + idx) % MAX_SEGS];
    size_t k = s->len - used < n ? s->len - used : n;
    struct seg piece = *s;
    piece.len = k; piece.roff = s->roff + used; piece.data = s->data < 0 ? -1 : s->data + (int64_t)used;
    struct range *r = piece.kind == SEG_RANGE ? range_by_id(piece.range) : NULL;
    if (to) {
      send_event(fd, to, call, k, piece.data, r, piece.roff);
      if (r) attach_conn(r, to->conn);
    }
    if (dup_to) push_seg(dup_to, piece);
    n -= k;
    if (!consume) {
      if (used + k == s->len) { idx++; used = 0; } else used += k;
    } else if (k == s->len) {
      if (r && r->pipe_refs) r->pipe_refs--;
      if (r && !to && !dup_to && !r->pipe_refs && !r->nconns) release_range(r, "pipe-drained");
      p->head = (p->head + 1) % MAX_SEGS;
      p->n--;
    } else {
      s->len -= k; s->roff += k;
      if (s->data >= 0) s->data += (int64_t)k;
    }
  }
}

ssize_t vmsplice(int fd, const struct iovec *iov, size_t cnt, unsigned int flags) {
  INIT();
  if (!want() || !lock()) return real_vmsplice(fd, iov, cnt, flags);
  sync_point();
  unlock();
  ssize_t n = real_vmsplice(fd, iov, cnt, flags);
  int e = errno;
  if (n > 0 && lock()) {
    struct pend p;
    zc_ranges(&p, iov, (int)cnt, (size_t)n, RK_VMSPLICE, 0);
    ahead_of(iov, (int)cnt, (size_t)n);
    struct pipest *pp = pipe_of(fd, 1);
    for (int i = 0; i < p.n; i++) {
      log_range(p.r[i]);
      if (pp) push_seg(pp, (struct seg){SEG_RANGE, p.data[i], p.r[i]->id, 0, p.r[i]->len});
    }
    unlock();
  }
  errno = e;
  return n;
}

static struct range *file_range(int fd, uint64_t foff, size_t n) {
  struct fdst *f = fdinfo(fd);
  struct range *r = f ? new_range(RK_FILE) : NULL;
  if (!r) return NULL;
  r->dev = f->dev; r->ino = f->ino; r->foff = foff; r->len = n;
  log_range(r);
  return r;
}
static uint64_t fpos(int fd) { return (uint64_t)lseek(fd, 0, SEEK_CUR); }

ssize_t splice(int in, loff_t *oin, int out, loff_t *oout, size_t len, unsigned int flags) {
  INIT();
  if (!want() || !lock()) return real_splice(in, oin, out, oout, len, flags);
  sync_point();
  struct fdst *fi = fdinfo(in), *fo = fdinfo(out);
  uint64_t pos = fi && fi->kind == FD_FILE ? (oin ? (uint64_t)*oin : fpos(in)) : 0;
  unlock();
  ssize_t n = real_splice(in, oin, out, oout, len, flags);
  int e = errno;
  if (n > 0 && lock()) {
    fi = fdinfo(in); fo = fdinfo(out);
    if (fi && fo && fi->kind == FD_FILE && fo->kind == FD_PIPE) {
      struct pipest *pp = pipe_of(out, 1);
      struct range *r = file_range(in, pos, (size_t)n);
      if (pp && r) push_seg(pp, (struct seg){SEG_RANGE, snap_file(in, pos, (size_t)n), r->id, 0, (size_t)n});
    } else if (fi && fi->kind == FD_PIPE) {
      struct pipest *pp = pipe_of(in, 1);
      struct fdst *to = fo && fo->kind == FD_TCP ? fo : NULL;
      if (to) conn_of(out, to);
      if (pp) pop_segs(pp, (size_t)n, out, to, "splice", fo && fo->kind == FD_PIPE ? pipe_of(out, 1) : NULL, 1);
      else if (to) send_event(out, to, "splice", (size_t)n, -1, NULL, 0);
    } else if (fo && fo->kind == FD_PIPE) {
      struct pipest *pp = pipe_of(out, 1);
      if (pp) push_seg(pp, (struct seg){SEG_UNKNOWN, -1, 0, 0, (size_t)n});
    }
    unlock();
  }
  errno = e;
  return n;
}
ssize_t tee(int in, int out, size_t len, unsigned int flags) {
  INIT();
  if (!want()) return real_tee(in, out, len, flags);
  ssize_t n = real_tee(in, out, len, flags);
  int e = errno;
  if (n > 0 && lock()) {
    sync_point();
    struct pipest *pi = pipe_of(in, 1), *po = pipe_of(out, 1);
    if (pi && po) pop_segs(pi, (size_t)n, -1, NULL, "tee", po, 0);
    unlock();
  }
  errno = e;
  return n;
}

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count, int is64) {
  INIT();
  ssize_t n;
  if (!want() || !lock()) return is64 ? real_sendfile64(out, in, (off64_t *)off, count) : real_sendfile(out, in, off, count);
  sync_point();
  uint64_t pos = off ? (uint64_t)*off : fpos(in);
  unlock();
  n = is64 ? real_sendfile64(out, in, (off64_t *)off, count) : real_sendfile(out, in, off, count);
  int e = errno;
  if (n > 0 && lock()) {
    struct fdst *f = tcp(out), *fi = fdinfo(in);
    if (f && fi && fi->kind == FD_FILE) {
      struct range *r = file_range(in, pos, (size_t)n);
      if (r) attach_conn(r, conn_of(out, f));
      send_event(out, f, "sendfile", (size_t)n, snap_file(in, pos, (size_t)n), r, 0);
    } else if (f) send_event(out, f, "sendfile", (size_t)n, -1, NULL, 0);
    unlock();
  }
  errno = e;
  return n;
}
ssize_t sendfile(int out, int in, off_t *off, size_t count) { return do_sendfile(out, in, off, count, 0); }
ssize_t sendfile64(int out, int in, off64_t *off, size_t count) { return do_sendfile(out, in, (off_t *)off, count, 1); }

/* ---------- writes: sockets (stream bytes), pipes (copied segments), files (in-flight ranges) ---------- */
static void file_written(int fd, uint64_t pos, const void *buf, size_t n, int zero, const char *kind) {
  struct fdst *f = fdinfo(fd);
  if (!f || f->kind != FD_FILE) return;
  uintptr_t ip = 0;
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (r->kind != RK_FILE || r->dev != f->dev || r->ino != f->ino) continue;
    uint64_t a = pos > r->foff ? pos : r->foff, b = pos + n < r->foff + r->len ? pos + n : r->foff + r->len;
    if (a >= b) continue;
    if (!ip) ip = here();
    struct lb l; begin(&l, "finding"); kv_s(&l, "kind", kind); kv_u(&l, "range", r->id); kv_u(&l, "roff", a - r->foff);
    kv_u(&l, "len", b - a); kv_x(&l, "ip", ip); kv_t(&l); emit(&l);
    write_event(r, a - r->foff, b - a, zero ? -1 : snap((const char *)buf + (a - pos), b - a, "file write"), ip, kind, zero);
  }
}
static void wrote(int fd, const void *buf, size_t n, uint64_t pos, const char *call) {
  struct fdst *f = fdinfo(fd);
  if (!f || !n) return;
  if (f->kind == FD_TCP) log_copy(fd, call, buf, n);
  else if (f->kind == FD_PIPE) {
    struct pipest *pp = pipe_of(fd, 1);
    if (pp) push_seg(pp, (struct seg){SEG_COPY, snap(buf, n, "pipe write"), 0, 0, n});
  } else if (f->kind == FD_FILE) file_written(fd, pos, buf, n, 0, "file-write");
}
static int wants_pos(int fd) { struct fdst *f = fdinfo(fd); return f && f->kind == FD_FILE; }
static uint64_t write_pos(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0 && (fl & O_APPEND)) { struct stat st; return syscall(SYS_fstat, fd, &st) == 0 ? (uint64_t)st.st_size : 0; }
  return fpos(fd);
}
ssize_t write(int fd, const void *buf, size_t len) {
  INIT();
  if (!want() || !lock()) return real_write(fd, buf, len);
  sync_point();
  uint64_t pos = wants_pos(fd) ? write_pos(fd) : 0;
  unlock();
  ssize_t n = real_write(fd, buf, len);
  int e = errno;
  if (n > 0 && lock()) { wrote(fd, buf, (size_t)n, pos, "write"); unlock(); }
  errno = e;
  return n;
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  INIT();
  if (!want() || !lock()) return real_writev(fd, iov, cnt);
  sync_point();
  uint64_t pos = wants_pos(fd) ? write_pos(fd) : 0;
  unlock();
  ssize_t n = real_writev(fd, iov, cnt);
  int e = errno;
  if (n > 0 && lock()) {
    size_t left = (size_t)n;
    for (int i = 0; i < cnt && left; i++) {
      size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
      wrote(fd, iov[i].iov_base, k, pos, "writev");
      pos += k; left -= k;
    }
    unlock();
  }
  errno = e;
  return n;
}
static ssize_t do_pwrite(int fd, const void *buf, size_t len, off_t off, int is64) {
  INIT();
  ssize_t n = is64 ? real_pwrite64(fd, buf, len, off) : real_pwrite(fd, buf, len, off);
  int e = errno;
  if (n > 0 && want() && lock()) { sync_point(); wrote(fd, buf, (size_t)n, (uint64_t)off, "pwrite"); unlock(); }
  errno = e;
  return n;
}
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) { return do_pwrite(fd, buf, len, off, 0); }
ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off) { return do_pwrite(fd, buf, len, off, 1); }
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  INIT();
  ssize_t n = real_pwritev(fd, iov, cnt, off);
  int e = errno;
  if (n > 0 && want() && lock()) {
    sync_point();
    size_t left = (size_t)n; uint64_t pos = (uint64_t)off;
    for (int i = 0; i < cnt && left; i++) {
      size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
      wrote(fd, iov[i].iov_base, k, pos, "pwritev");
      pos += k; left -= k;
    }
    unlock();
  }
  errno = e;
  return n;
}
/* A file cut below bytes in flight: the kernel sends zeros (or fails) where the file is gone. */
static void truncated(int fd, uint64_t len) {
  struct fdst *f = fdinfo(fd);
  if (!f || f->kind != FD_FILE) return;
  file_written(fd, len, NULL, UINT64_MAX / 2 - len, 1, "truncate");
}
int ftruncate(int fd, off_t len) {
  INIT();
  if (want() && lock()) { sync_point(); truncated(fd, (uint64_t)len); unlock(); }
  return real_ftruncate(fd, len);
}
int ftruncate64(int fd, off64_t len) {
  INIT();
  if (want() && lock()) { sync_point(); truncated(fd, (uint64_t)len); unlock(); }
  return real_ftruncate64(fd, len);
}
int fallocate(int fd, int mode, off_t off, off_t len) {
  INIT();
  if (want() && (mode & FALLOC_FL_PUNCH_HOLE) && lock()) {
    sync_point();
    file_written(fd, (uint64_t)off, NULL, (size_t)len, 1, "punch-hole");
    unlock();
  }
  return real_fallocate(fd, mode, off, len);
}
static void opened_trunc(int fd) { if (fd >= 0 && lock()) { forget_fd(fd); truncated(fd, 0); unlock(); } }
int open(const char *path, int flags, ...) {
  INIT();
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  int fd = real_open(path, flags, mode);
  int e = errno;
  if (fd >= 0) forget_fd(fd);
  if (want() && (flags & O_TRUNC)) opened_trunc(fd);
  errno = e;
  return fd;
}
int open64(const char *path, int flags, ...) {
  INIT();
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  int fd = real_open64(path, flags, mode);
  int e = errno;
  if (fd >= 0) forget_fd(fd);
  if (want() && (flags & O_TRUNC)) opened_trunc(fd);
  errno = e;
  return fd;
}
int openat(int dir, const char *path, int flags, ...) {
  INIT();
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  int fd = real_openat(dir, path, flags, mode);
  int e = errno;
  if (fd >= 0) forget_fd(fd);
  if (want() && (flags & O_TRUNC)) opened_trunc(fd);
  errno = e;
  return fd;
}
int truncate(const char *path, off_t len) {
  INIT();
  if (want()) {
    int fd = real_open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (lock()) { sync_point(); truncated(fd, (uint64_t)len); forget_fd(fd); unlock(); }
      real_close(fd);
    }
  }
  return real_truncate(path, len);
}

/* ---------- reads: kernel writes into protected pages would fail with EFAULT, so open them first ---------- */
/* Returns how many pages it opened; the in-flight bytes among them are a finding ("read-into"). */
static int open_for_kernel(const void *buf, size_t len, const char *why) {
  if (!protect_on || !buf || !len || !pages) return 0;
  uintptr_t a = (uintptr_t)buf, b = a + len;
  take_pending(a, len);
  int opened = 0;
  uintptr_t ip = 0;
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (!overlaps_mem(r, a, len)) continue;
    if (!ip) ip = here();
    uintptr_t x = a > r->addr ? a : r->addr, y = b < r->addr + r->len ? b : r->addr + r->len;
    struct lb l; begin(&l, "finding"); kv_s(&l, "kind", why); kv_u(&l, "range", r->id); kv_u(&l, "roff", x - r->addr);
    kv_u(&l, "len", y - x); kv_x(&l, "ip", ip); kv_t(&l); emit(&l);
  }
  for (uintptr_t p = a & ~(PG - 1); p < b; p += PG) {
    struct pageslot *s = slot(p, 0);
    if (s && s->state == PS_LINGER) { open_linger(p); continue; }
    if (s && s->state == PS_PROT) { mprotect((void *)p, PG, PROT_READ | PROT_WRITE); mark_dirty(s); opened++; }
  }
  return opened;
}
#define OPEN_OUT(buf, len) \
  do { if (want() && lock()) { sync_point(); opened = open_for_kernel(buf, len, "read-into"); unlock(); } } while (0)
#define CLOSE_OUT() do { if (opened && lock()) { sync_dirty(); unlock(); } } while (0)

/* The peer's EOF on a socket: its vmsplice/file bytes have been read to the end (the release point they have). */
static struct range *gone;  /* ranges released together, to open their pages in few mprotect calls */
static int by_addr(const void *a, const void *b) {
  uintptr_t x = ((const struct range *)a)->addr, y = ((const struct range *)b)->addr;
  return x < y ? -1 : x > y;
}
static void peer_eof(int fd) {
  struct fdst *f = tcp(fd);
  if (!f || !f->conn || f->eof) return;
  f->eof = 1;
  int n = 0;
  for (int i = 0; i < nranges;) {
    struct range *r = &ranges[i];
    int mine = 0;
    for (int k = 0; k < r->nconns; k++) if (r->conns[k] == f->conn) mine = 1;
    if (mine && (r->kind == RK_VMSPLICE || r->kind == RK_FILE) && !r->pipe_refs && gone) {
      struct range c;
      drop_range(r, "peer-eof", &c);
      if (c.kind != RK_FILE && !c.unmapped) gone[n++] = c;
      continue;
    }
    i++;
  }
  qsort(gone, (size_t)n, sizeof *gone, by_addr);
  for (int i = 0; i < n;) {
    uintptr_t lo = gone[i].addr & ~(PG - 1), hi = (gone[i].addr + gone[i].len + PG - 1) & ~(PG - 1);
    int j = i + 1;
    for (; j < n && (gone[j].addr & ~(PG - 1)) <= hi; j++) {
      uintptr_t e = (gone[j].addr + gone[j].len + PG - 1) & ~(PG - 1);
      if (e > hi) hi = e;
    }
    open_span(lo, hi, gone + i, j - i);
    i = j;
  }
}
static void after_read(int fd, ssize_t n, size_t len) { if (n == 0 && len > 0 && lock()) { peer_eof(fd); unlock(); } }

ssize_t read(int fd, void *buf, size_t len) {
  INIT();
  int opened = 0;
  if (!want()) return real_read(fd, buf, len);
  OPEN_OUT(buf, len);
  ssize_t n = real_read(fd, buf, len);
  int e = errno;
  CLOSE_OUT();
  after_read(fd, n, len);
  errno = e;
  return n;
}
ssize_t pread(int fd, void *buf, size_t len, off_t off) {
  INIT();
  int opened = 0;
  if (!want()) return real_pread(fd, buf, len, off);
  OPEN_OUT(buf, len);
  ssize_t n = real_pread(fd, buf, len, off);
  int e = errno;
  CLOSE_OUT();
  errno = e;
  return n;
}
ssize_t readv(int fd, const struct iovec *iov, int cnt) {
  INIT();
  int opened = 0;
  if (!want()) return real_readv(fd, iov, cnt);
  size_t total = 0;
  for (int i = 0; i < cnt; i++) { OPEN_OUT(iov[i].iov_base, iov[i].iov_len); total += iov[i].iov_len; }
  ssize_t n = real_readv(fd, iov, cnt);
  int e = errno;
  CLOSE_OUT();
  after_read(fd, n, total);
  errno = e;
  return n;
}
ssize_t recv(int fd, void *buf, size_t len, int flags) {
  INIT();
  int opened = 0;
  if (!want()) return real_recv(fd, buf, len, flags);
  OPEN_OUT(buf, len);
  ssize_t n = real_recv(fd, buf, len, flags);
  int e = errno;
  CLOSE_OUT();
  if (!(flags & MSG_PEEK)) after_read(fd, n, len);
  errno = e;
  return n;
}
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fl) {
  INIT();
  int opened = 0;
  if (!want()) return real_recvfrom(fd, buf, len, flags, from, fl);
  OPEN_OUT(buf, len);
  ssize_t n = real_recvfrom(fd, buf, len, flags, from, fl);
  int e = errno;
  CLOSE_OUT();
  if (!(flags & MSG_PEEK)) after_read(fd, n, len);
  errno = e;
  return n;
}
/* MSG_ERRQUEUE: the program reads its zero-copy completions; the shim only looks at what it got. */
static void zc_completions(int fd, const struct msghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
    if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) || (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR))) continue;
    struct sock_extended_err *ee = (struct sock_extended_err *)CMSG_DATA(c);
    if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY) continue;
    uint32_t lo = ee->ee_info, hi = ee->ee_data;
    int copied = (ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0;
    for (int i = 0; i < nranges;) {
      struct range *r = &ranges[i];
      if (r->kind == RK_ZC && r->fd == fd && (uint32_t)(r->zc - lo) <= (uint32_t)(hi - lo)) {
        release_range(r, copied ? "zc-completion-copied" : "zc-completion");
        continue;
      }
      i++;
    }
  }
}
ssize_t recvmsg(int fd, struct msghdr *m, int flags) {
  INIT();
  int opened = 0;
  if (!want()) return real_recvmsg(fd, m, flags);
  size_t total = 0;
  for (size_t i = 0; i < m->msg_iovlen; i++) { OPEN_OUT(m->msg_iov[i].iov_base, m->msg_iov[i].iov_len); total += m->msg_iov[i].iov_len; }
  OPEN_OUT(m->msg_control, m->msg_controllen);
  OPEN_OUT(m, sizeof *m);
  ssize_t n = real_recvmsg(fd, m, flags);
  int e = errno;
  CLOSE_OUT();
  if (n >= 0 && (flags & MSG_ERRQUEUE) && lock()) { zc_completions(fd, m); unlock(); }
  else if (!(flags & (MSG_PEEK | MSG_ERRQUEUE))) after_read(fd, n, total);
  errno = e;
  return n;
}
int accept(int fd, struct sockaddr *a, socklen_t *l) {
  INIT();
  int opened = 0;
  if (!want()) return real_accept(fd, a, l);
  OPEN_OUT(a, l ? *l : 0);
  OPEN_OUT(l, sizeof *l);
  int r = real_accept(fd, a, l);
  int e = errno;
  if (r >= 0 && lock()) { forget_fd(r); unlock(); }
  CLOSE_OUT();
  errno = e;
  return r;
}
int accept4(int fd, struct sockaddr *a, socklen_t *l, int flags) {
  INIT();
  int opened = 0;
  if (!want()) return real_accept4(fd, a, l, flags);
  OPEN_OUT(a, l ? *l : 0);
  OPEN_OUT(l, sizeof *l);
  int r = real_accept4(fd, a, l, flags);
  int e = errno;
  if (r >= 0 && lock()) { forget_fd(r); unlock(); }
  CLOSE_OUT();
  errno = e;
  return r;
}
int poll(struct pollfd *p, nfds_t n, int timeout) {
  INIT();
  int opened = 0;
  if (!want()) return real_poll(p, n, timeout);
  OPEN_OUT(p, n * sizeof *p);
  int r = real_poll(p, n, timeout);
  int e = errno;
  CLOSE_OUT();
  errno = e;
  return r;
}
int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout) {
  INIT();
  int opened = 0;
  if (!want()) return real_epoll_wait(ep, ev, max, timeout);
  OPEN_OUT(ev, (size_t)max * sizeof *ev);
  int r = real_epoll_wait(ep, ev, max, timeout);
  int e = errno;
  CLOSE_OUT();
  errno = e;
  return r;
}
int getsockopt(int fd, int level, int name, void *v, socklen_t *l) {
  INIT();
  int opened = 0;
  if (!want()) return real_getsockopt(fd, level, name, v, l);
  OPEN_OUT(v, l ? *l : 0);
  int r = real_getsockopt(fd, level, name, v, l);
  int e = errno;
  CLOSE_OUT();
  errno = e;
  return r;
}

/* ---------- close, free, munmap, madvise, realloc of in-flight memory ---------- */
static void finding_mem(const char *kind, uintptr_t a, size_t n, uintptr_t ip) {
  take_pending(a, n);
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (!overlaps_mem(r, a, n)) continue;
    if (!ip) ip = here();
    uintptr_t x = a > r->addr ? a : r->addr, y = a + n < r->addr + r->len ? a + n : r->addr + r->len;
    struct lb l; begin(&l, "finding"); kv_s(&l, "kind", kind); kv_u(&l, "range", r->id); kv_u(&l, "roff", x - r->addr);
    kv_u(&l, "len", y - x); kv_x(&l, "ip", ip); kv_t(&l); emit(&l);
  }
}
int close(int fd) {
  INIT();
  if (want() && lock()) {
    sync_point();
    struct fdst *f = fd >= 0 && fd < MAX_FDS && fds ? &fds[fd] : NULL;
    if (f && f->kind == FD_TCP && f->conn) {
      uintptr_t ip = 0;
      /* after close the program can no longer read this socket's completions */
      for (int i = 0; i < nranges; i++) {
        struct range *r = &ranges[i];
        if (r->kind != RK_ZC || r->fd != fd || r->closed) continue;
        if (!ip) ip = here();
        r->closed = 1;
        struct lb l; begin(&l, "finding"); kv_s(&l, "kind", "close-in-flight"); kv_u(&l, "range", r->id); kv_u(&l, "roff", 0);
        kv_u(&l, "len", r->len); kv_x(&l, "ip", ip); kv_t(&l); emit(&l);
      }
      struct lb l; begin(&l, "close"); kv_u(&l, "conn", f->conn); kv_i(&l, "fd", fd); kv_u(&l, "bytes", f->off); kv_t(&l); emit(&l);
    }
    forget_fd(fd);
    unlock();
  }
  return real_close(fd);
}
int socket(int d, int t, int p) {
  INIT();
  int r = real_socket(d, t, p);
  if (r >= 0 && want() && lock()) { forget_fd(r); unlock(); }
  return r;
}
int pipe(int f[2]) {
  INIT();
  int r = real_pipe(f);
  if (r == 0 && want() && lock()) { forget_fd(f[0]); forget_fd(f[1]); unlock(); }
  return r;
}
int pipe2(int f[2], int fl) {
  INIT();
  int r = real_pipe2(f, fl);
  if (r == 0 && want() && lock()) { forget_fd(f[0]); forget_fd(f[1]); unlock(); }
  return r;
}
int dup2(int a, int b) { INIT(); int r = real_dup2(a, b); if (r >= 0 && want() && lock()) { forget_fd(b); unlock(); } return r; }
int dup3(int a, int b, int fl) {
  INIT();
  int r = real_dup3(a, b, fl);
  if (r >= 0 && want() && lock()) { forget_fd(b); unlock(); }
  return r;
}

/* glibc's chunk header: size at p-8, bit 1 = the chunk is its own mapping (free unmaps it). */
static size_t chunk_bytes(void *p, int *mmapped) {
  size_t sz = ((size_t *)p)[-1];
  *mmapped = (sz & 2) != 0;
  return (sz & ~(size_t)7) - (*mmapped ? 16 : 8);
}
static void freeing(const char *kind, void *p) {
  int mm = 0;
  size_t n = chunk_bytes(p, &mm);
  uintptr_t a = (uintptr_t)p;
  forget_linger(a, n, 0);  /* before the allocator writes its own data there */
  int any = 0;
  for (int i = 0; i < nranges; i++) if (overlaps_mem(&ranges[i], a, n)) any = 1;
  if (!any) return;
  finding_mem(kind, a, n, 0);
  for (int i = 0; i < nranges; i++) {
    struct range *r = &ranges[i];
    if (!overlaps_mem(r, a, n)) continue;
    r->freed = 1;
    if (mm) {
      /* the mapping goes away: the kernel keeps its pages, and a new mapping there is not in flight */
      for (uintptr_t q = r->addr & ~(PG - 1); q < r->addr + r->len; q += PG) { struct pageslot *s = slot(q, 0); if (s) s->state = PS_TOMB; }
      r->unmapped = 1;
    }
  }
}
void free(void *p) {
  if (!real_free) { if (resolving) return; resolve_all(); }
  if (p && want() && lock()) { sync_point(); freeing("free", p); unlock(); }
  real_free(p);
}
void *realloc(void *p, size_t n) {
  if (!real_realloc) { if (resolving) return NULL; resolve_all(); }
  if (p && want() && lock()) { sync_point(); freeing("realloc", p); unlock(); }
  return real_realloc(p, n);
}
int munmap(void *a, size_t n) {
  INIT();
  if (want() && lock()) {
    sync_point();
    forget_linger((uintptr_t)a, n, 1);
    finding_mem("munmap", (uintptr_t)a, n, 0);
    for (int i = 0; i < nranges; i++) {
      struct range *r = &ranges[i];
      if (!overlaps_mem(r, (uintptr_t)a, n)) continue;
      for (uintptr_t q = r->addr & ~(PG - 1); q < r->addr + r->len; q += PG) { struct pageslot *s = slot(q, 0); if (s) s->state = PS_TOMB; }
      r->unmapped = 1;
    }
    unlock();
  }
  return real_munmap(a, n);
}
int madvise(void *a, size_t n, int advice) {
  INIT();
  if (want() && (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE) && lock()) {
    sync_point();
    finding_mem(advice == MADV_DONTNEED ? "madvise-dontneed" : advice == MADV_FREE ? "madvise-free" : "madvise-remove", (uintptr_t)a, n, 0);
    unlock();
  }
  return real_madvise(a, n, advice);
}

/* ---------- io_uring: SEND_ZC / SENDMSG_ZC SQEs at submit, notifications when consumed ---------- */
#ifdef ZCSHIM_HAVE_LIBURING
static void before_submit(struct io_uring *ring) {
  if (!want() || !lock()) return;
  struct ringst *s = ring_of(ring);
  sync_point();
  (void)s;
  for (unsigned i = ring->sq.sqe_head; i != ring->sq.sqe_tail; i++) {
    struct io_uring_sqe *q = &ring->sq.sqes[(i & ring->sq.ring_mask) << ((ring->flags & IORING_SETUP_SQE128) ? 1 : 0)];
    if (q->opcode != IORING_OP_SEND_ZC && q->opcode != IORING_OP_SENDMSG_ZC) continue;
    if (q->flags & IOSQE_FIXED_FILE) {
      struct lb l; begin(&l, "blind");
      kv_s(&l, "what", "io_uring SEND_ZC on a registered file: the shim cannot map it to a socket");
      emit(&l);
      continue;
    }
    struct fdst *f = tcp(q->fd);
    if (!f) continue;
    struct iovec one = {(void *)(uintptr_t)q->addr, q->len};
    const struct iovec *iov = &one;
    int cnt = 1;
    if (q->opcode == IORING_OP_SENDMSG_ZC) {
      const struct msghdr *m = (const struct msghdr *)(uintptr_t)q->addr;
      iov = m->msg_iov; cnt = (int)m->msg_iovlen;
    }
    size_t total = 0;
    for (int k = 0; k < cnt; k++) total += iov[k].iov_len;
    struct pend p;
    /* protected from the submit on; its snapshot and its send event wait for the result CQE */
    zc_ranges(&p, iov, cnt, total, q->opcode == IORING_OP_SEND_ZC ? RK_SEND_ZC : RK_SENDMSG_ZC, 1);
    for (int k = 0; k < p.n; k++) {
      p.r[k]->ring = ring; p.r[k]->user_data = q->user_data; p.r[k]->fd = q->fd;
      p.r[k]->sconn = conn_of(q->fd, f);
      attach_conn(p.r[k], p.r[k]->sconn);
      log_range(p.r[k]);
    }
  }
  unlock();
}
static void ring_sync(struct io_uring *ring) {
  if (!want() || !lock()) return;
  ring_of(ring);
  sync_point();
  unlock();
}
int io_uring_submit(struct io_uring *ring) { before_submit(ring); int r = real_io_uring_submit(ring); ring_sync(ring); return r; }
int io_uring_submit_and_wait(struct io_uring *ring, unsigned w) {
  INIT();
  before_submit(ring); int r = real_io_uring_submit_and_wait(ring, w); ring_sync(ring); return r;
}
int io_uring_submit_and_wait_timeout(struct io_uring *ring, struct io_uring_cqe **c, unsigned w, struct __kernel_timespec *ts,
                                     sigset_t *sig) {
  INIT();
  before_submit(ring); int r = real_io_uring_submit_and_wait_timeout(ring, c, w, ts, sig); ring_sync(ring); return r;
}
int __io_uring_get_cqe(struct io_uring *ring, struct io_uring_cqe **c, unsigned submit, unsigned wait, sigset_t *sig) {
  INIT();
  if (submit) before_submit(ring);
  ring_sync(ring);
  int r = real___io_uring_get_cqe(ring, c, submit, wait, sig);
  ring_sync(ring);
  return r;
}
int io_uring_wait_cqes(struct io_uring *ring, struct io_uring_cqe **c, unsigned w, struct __kernel_timespec *ts, sigset_t *sig) {
  INIT();
  before_submit(ring); int r = real_io_uring_wait_cqes(ring, c, w, ts, sig); ring_sync(ring); return r;
}
int io_uring_wait_cqe_timeout(struct io_uring *ring, struct io_uring_cqe **c, struct __kernel_timespec *ts) {
  INIT();
  before_submit(ring); int r = real_io_uring_wait_cqe_timeout(ring, c, ts); ring_sync(ring); return r;
}
unsigned io_uring_peek_batch_cqe(struct io_uring *ring, struct io_uring_cqe **c, unsigned n) {
  INIT();
  ring_sync(ring); unsigned r = real_io_uring_peek_batch_cqe(ring, c, n); ring_sync(ring); return r;
}
int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p) {
  INIT();
  int r = real_io_uring_queue_init_params(entries, ring, p);
  if (r == 0) ring_sync(ring);
  return r;
}
int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags) {
  INIT();
  int r = real_io_uring_queue_init(entries, ring, flags);
  if (r == 0) ring_sync(ring);
  return r;
}
void io_uring_queue_exit(struct io_uring *ring) {
  INIT();
  if (want() && lock()) {
    sync_point();
    uintptr_t ip = 0;
    for (int i = 0; i < nranges;) {
      struct range *r = &ranges[i];
      if (r->ring != ring) { i++; continue; }
      if (!ip) ip = here();
      struct lb l; begin(&l, "finding"); kv_s(&l, "kind", "ring-exit-in-flight"); kv_u(&l, "range", r->id); kv_u(&l, "roff", 0);
      kv_u(&l, "len", r->len); kv_x(&l, "ip", ip); kv_t(&l); emit(&l);
      r->ring = NULL;  /* the ring's memory goes away; the range stays in flight until the program ends */
      i++;
    }
    for (int i = 0; i < nrings; i++) if (rings[i].ring == ring) { rings[i] = rings[--nrings]; break; }
    unlock();
  }
  real_io_uring_queue_exit(ring);
}
#endif

/* ---------- signals: SIGSEGV on a protected page → single-step the write, record it, protect again ---------- */
struct step { int n; uintptr_t page[STEP_PAGES]; char before[STEP_PAGES][PG]; uintptr_t ip, addr, key; };
static __thread __attribute__((tls_model("initial-exec"))) struct step st;
static __thread __attribute__((tls_model("initial-exec"))) uintptr_t last_retry;
static struct sigaction prog_segv, prog_trap, prog_bus;
static int have_prog_segv, have_prog_trap, have_prog_bus;

static void crash(int sig, siginfo_t *si, ucontext_t *uc, const char *why) {
  void *frames[BT_DEPTH];
  int n = backtrace(frames, BT_DEPTH);
  uintptr_t ip = uc ? (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] : 0;
  if (!maps_dumped) { maps_dumped = 1; dump_maps(); }
  struct lb l; begin(&l, "crash"); kv_i(&l, "sig", sig); kv_x(&l, "addr", (uintptr_t)si->si_addr); kv_x(&l, "ip", ip);
  kv_u(&l, "inShim", in_shim_text(ip) || in_shim > 0); kv_s(&l, "why", why);
  put(&l, ",\"bt\":[");
  int i = 0, first = 1;
  for (; i < n && (uintptr_t)frames[i] != ip; i++) {}
  if (i == n) { putx(&l, ip); first = 0; i = 0; }
  for (; i < n; i++) { if (!first) put(&l, ","); putx(&l, (uintptr_t)frames[i]); first = 0; }
  put(&l, "]"); kv_t(&l); emit(&l);
}
/* Not ours: the program's own handler, or the default action (the fault repeats and kills the process). */
static void chain(int sig, siginfo_t *si, void *uc, struct sigaction *prog, int have) {
  if (have && prog->sa_handler != SIG_DFL && prog->sa_handler != SIG_IGN) {
    if (prog->sa_flags & SA_SIGINFO) prog->sa_sigaction(sig, si, uc);
    else prog->sa_handler(sig);
    if (prog->sa_flags & SA_RESETHAND) prog->sa_handler = SIG_DFL;
    return;
  }
  crash(sig, si, uc, "fatal signal");
  struct sigaction dfl; memset(&dfl, 0, sizeof dfl); dfl.sa_handler = SIG_DFL;
  real_sigaction(sig, &dfl, NULL);
  /* a fault repeats by itself; a trap or a kill() does not: send it again, the default action ends the process */
  if (si->si_code <= 0 || sig == SIGTRAP) raise(sig);
}

static void on_segv(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  int saved = errno;
  uintptr_t a = (uintptr_t)si->si_addr, page = a & ~(PG - 1);
  if (sig != SIGSEGV || si->si_code != SEGV_ACCERR || !pages || atomic_load(&lk_owner) == tid()) goto not_ours;
  lock();
  struct pageslot *s = slot(page, 0);
  if (s && s->state == PS_LINGER) {  /* not in flight: open it and let the write run */
    int opened = open_linger(page);
    unlock();
    if (!opened) goto not_ours;
    errno = saved;
    return;
  }
  if (!s || s->state != PS_PROT) {
    /* a page the shim protected and released meanwhile (another thread): retrying the write succeeds once */
    int retry = s && last_retry != a;
    last_retry = a;
    unlock();
    if (retry) { errno = saved; return; }
    goto not_ours;
  }
  last_retry = 0;
  scan_rings();  /* releases the program took since the last call */
  s = slot(page, 0);
  if (!s || s->state != PS_PROT) { unlock(); errno = saved; return; }
  stat_faults++;
  take_pending(page, PG);  /* an io_uring send's bytes as they were, before this write */
  if (st.n == 0) {
    st.ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP]; st.addr = a; st.key = 0;
    int in = 0;
    for (int i = 0; i < nranges; i++) if (overlaps_mem(&ranges[i], a, 1)) in = 1;
    if (in) { void *frames[BT_DEPTH]; int n = backtrace(frames, BT_DEPTH); st.key = site(frames, n, st.ip); }
  }
  if (st.n < STEP_PAGES) {
    memcpy(st.before[st.n], (void *)page, PG);
    st.page[st.n++] = page;
  }
  mprotect((void *)page, PG, PROT_READ | PROT_WRITE);
  s->state = PS_STEP;  /* writable until the trap */
  uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
  unlock();
  errno = saved;
  return;
not_ours:
  chain(sig, si, ucv, sig == SIGBUS ? &prog_bus : &prog_segv, sig == SIGBUS ? have_prog_bus : have_prog_segv);
  errno = saved;
}

static void on_trap(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  int saved = errno;
  if (st.n == 0) { chain(sig, si, ucv, &prog_trap, have_prog_trap); errno = saved; return; }
  uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
  lock();
  int touched = 0;
  for (int k = 0; k < st.n; k++) {
    uintptr_t page = st.page[k];
    const char *before = st.before[k], *after = (const char *)page;
    for (int i = 0; i < nranges; i++) {
      struct range *r = &ranges[i];
      if (!overlaps_mem(r, page, PG)) continue;
      uintptr_t a = page > r->addr ? page : r->addr, b = page + PG < r->addr + r->len ? page + PG : r->addr + r->len;
      uintptr_t x = 0, y = 0;
      for (uintptr_t q = a; q < b; q++) if (before[q - page] != after[q - page]) { if (!x) x = q; y = q + 1; }
      if (x) {
        touched = 1;
        if (!st.key) { void *f1[1] = {(void *)st.ip}; st.key = site(f1, 1, st.ip); }
        write_event(r, x - r->addr, y - x, snap((void *)x, y - x, "bytes written in flight"), st.key, "fault", 0);
      } else if (st.addr >= a && st.addr < b) {
        touched = 1;
        if (!st.key) { void *f1[1] = {(void *)st.ip}; st.key = site(f1, 1, st.ip); }
        write_event(r, st.addr - r->addr, 0, -1, st.key, "fault", 0);  /* the same bytes again: a write all the same */
      }
    }
    struct pageslot *s = slot(page, 0);
    if (s && live_mem_on_page(page)) {
      if (++s->faults <= FAULT_BUDGET && mprotect((void *)page, PG, PROT_READ) == 0) s->state = PS_PROT;
      else mark_dirty(s);  /* many writes: the next sync point records the page and protects it again */
    } else if (s) s->state = PS_TOMB;
  }
  if (!touched) stat_shared++;
  st.n = 0;
  unlock();
  errno = saved;
}

static void on_fatal(int sig, siginfo_t *si, void *uc) { crash(sig, si, uc, "fatal signal"); signal(sig, SIG_DFL); raise(sig); }
static void at_exit_log(void);
/* zcprobe stops the program with SIGTERM: record the last in-flight bytes, then the default action. */
static void on_term(int sig) { at_exit_log(); signal(sig, SIG_DFL); raise(sig); }

static int ours(int sig) { return sig == SIGSEGV || sig == SIGTRAP || sig == SIGBUS; }
static struct sigaction *prog_of(int sig, int **have) {
  if (sig == SIGSEGV) { *have = &have_prog_segv; return &prog_segv; }
  if (sig == SIGTRAP) { *have = &have_prog_trap; return &prog_trap; }
  *have = &have_prog_bus; return &prog_bus;
}
/* The program's handlers for SIGSEGV/SIGTRAP/SIGBUS are kept and called for faults that are not the shim's. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  INIT();
  if (!ready || !ours(sig) || !protect_on) return real_sigaction(sig, act, old);
  int *have;
  struct sigaction *prog = prog_of(sig, &have);
  if (old) {
    if (*have) *old = *prog;
    else { memset(old, 0, sizeof *old); old->sa_handler = SIG_DFL; }
  }
  if (act) { *prog = *act; *have = 1; }
  return 0;
}
sighandler_t signal(int sig, sighandler_t h) {
  INIT();
  if (!ready || !ours(sig) || !protect_on) return real_signal(sig, h);
  struct sigaction a, o;
  memset(&a, 0, sizeof a);
  a.sa_handler = h; a.sa_flags = SA_RESTART;
  sigaction(sig, &a, &o);
  return o.sa_handler;
}

/* Each thread gets an alternate signal stack: a fault on a protected stack page still reaches the handler. */
static void altstack(void) {
  stack_t ss;
  ss.ss_sp = map_zero(1 << 16); ss.ss_size = 1 << 16; ss.ss_flags = 0;
  if (ss.ss_sp) sigaltstack(&ss, NULL);
}
struct tstart { void *(*fn)(void *); void *arg; };
static void *thread_start(void *p) {
  struct tstart t = *(struct tstart *)p;
  real_free(p);
  altstack();
  return t.fn(t.arg);
}
int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  INIT();
  if (!ready || !protect_on) return real_pthread_create(th, attr, fn, arg);
  struct tstart *t = malloc(sizeof *t);
  if (!t) return real_pthread_create(th, attr, fn, arg);
  t->fn = fn; t->arg = arg;
  int r = real_pthread_create(th, attr, thread_start, t);
  if (r) real_free(t);
  return r;
}

/* ---------- start, fork, exit ---------- */
/* The shim's own mappings (to leave its frames out of backtraces and tell its crashes from the program's). */
static void shim_text(const char *path) {
  int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return;
  static char buf[1 << 16];
  size_t have = 0, plen = strlen(path);
  long r;
  while ((r = syscall(SYS_read, fd, buf + have, sizeof buf - 1 - have)) > 0) {
    have += (size_t)r;
    buf[have] = 0;
    char *line = buf, *nl;
    while ((nl = strchr(line, '\n'))) {
      *nl = 0;
      size_t ll = strlen(line);
      if (ll > plen && strcmp(line + ll - plen, path) == 0) {
        uintptr_t lo = strtoull(line, NULL, 16), hi = strtoull(strchr(line, '-') + 1, NULL, 16);
        if (!shim_lo || lo < shim_lo) shim_lo = lo;
        if (hi > shim_hi) shim_hi = hi;
      }
      line = nl + 1;
    }
    have = (size_t)(buf + have - line);
    memmove(buf, line, have);
  }
  syscall(SYS_close, fd);
}
static void open_logs(void) {
  const char *dir = getenv("ZCSHIM_LOG");
  if (!dir || !*dir) return;
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  struct lb n; n.n = 0;
  put(&n, dir); put(&n, "/"); putu(&n, (uint64_t)getpid()); put(&n, "-");
  putu(&n, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
  n.b[n.n] = 0;
  memcpy(log_prefix, n.b, (size_t)n.n + 1);
  put(&n, ".log"); n.b[n.n] = 0;
  log_fd = (int)syscall(SYS_openat, AT_FDCWD, n.b, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  n.n -= 4; put(&n, ".data"); n.b[n.n] = 0;
  data_fd = (int)syscall(SYS_openat, AT_FDCWD, n.b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  atomic_store(&data_off, 0);
  stat_bytes = stat_dropped = 0; cap_logged = 0;
}
static void log_start(void) {
  char exe[512]; long k = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
  exe[k > 0 ? k : 0] = 0;
  struct lb l; begin(&l, "start"); kv_u(&l, "pid", (uint64_t)getpid()); kv_u(&l, "ppid", (uint64_t)getppid()); kv_s(&l, "exe", exe);
  kv_u(&l, "cap", cap); kv_u(&l, "protect", (uint64_t)protect_on); kv_u(&l, "linger", (uint64_t)(protect_on && linger_on)); kv_u(&l, "pg", PG);
#ifdef ZCSHIM_HAVE_LIBURING
  kv_u(&l, "uring", 1);
#else
  kv_u(&l, "uring", 0);
#endif
  kv_t(&l); emit(&l);
}
/* io_uring rings the shim never saw through liburing (static liburing, raw syscalls): their sends are unseen. */
static void unseen_rings(void) {
  int d = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (d < 0) return;
  char buf[4096];
  long n;
  while ((n = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + off);
      off += e->reclen;
      char path[64], target[64];
      struct lb p; p.n = 0; put(&p, "/proc/self/fd/"); put(&p, e->name); p.b[p.n] = 0;
      memcpy(path, p.b, (size_t)p.n + 1);
      long k = syscall(SYS_readlink, path, target, sizeof target - 1);
      if (k <= 0) continue;
      target[k] = 0;
      if (strcmp(target, "anon_inode:[io_uring]") != 0) continue;
      int fd = atoi(e->name), known = 0;
#ifdef ZCSHIM_HAVE_LIBURING
      for (int i = 0; i < nrings; i++) if (rings[i].ring->ring_fd == fd) known = 1;
#endif
      if (known) continue;
      struct lb l; begin(&l, "blind"); kv_i(&l, "fd", fd);
      kv_s(&l, "what", "an io_uring ring the shim never saw through liburing's exported functions "
                       "(static liburing or raw syscalls): its sends are not observed");
      emit(&l);
    }
  }
  syscall(SYS_close, d);
}
static void at_exit_log(void) {
  if (!ready || log_fd < 0 || exited) return;
  exited = 1;
  if (lock()) {
    sync_point();
    unseen_rings();
    dump_maps();
    struct lb l; begin(&l, "exit"); kv_u(&l, "faults", stat_faults); kv_u(&l, "sharedPageFaults", stat_shared);
    kv_u(&l, "syncs", stat_sync); kv_u(&l, "lingerOpens", stat_linger); kv_u(&l, "snapshotBytes", stat_bytes); kv_u(&l, "droppedBytes", stat_dropped);
    kv_u(&l, "inFlight", (uint64_t)nranges); kv_t(&l); emit(&l);
    unlock();
  }
}
/* A forked child has copies of the in-flight pages, not the kernel's: it starts clean, with its own log. */
static void child_after_fork(void) {
  atomic_store(&lk_owner, 0);
  my_tid = 0; in_shim = 0; st.n = 0;
  if (pages)
    for (uint32_t i = 0; i < PAGE_SLOTS; i++) {
      if (pages[i].state == PS_PROT || pages[i].state == PS_LINGER) mprotect((void *)pages[i].page, PG, PROT_READ | PROT_WRITE);
      pages[i].state = PS_NONE; pages[i].page = 0;
    }
  nranges = 0;
  if (pipes) memset(pipes, 0, sizeof(struct pipest) * MAX_PIPES);
  if (fds) for (int i = 0; i < MAX_FDS; i++) fds[i].conn = 0, fds[i].off = 0;
#ifdef ZCSHIM_HAVE_LIBURING
  nrings = 0; nnotifs = 0;
#endif
  nsites = 0; maps_dumped = 0;
  if (log_fd >= 0) syscall(SYS_close, log_fd);
  if (data_fd >= 0) syscall(SYS_close, data_fd);
  log_fd = data_fd = -1;
  open_logs();
  log_start();
}

/* "4294967296", "4G", "4GiB", "512M", "64KiB": binary units, as zcprobe's --snapshot-cap takes them. */
static int parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || errno) return 0;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10;
  else if (*end == 'M' || *end == 'm') shift = 20;
  else if (*end == 'G' || *end == 'g') shift = 30;
  if (shift) { end++; if (end[0] == 'i' && (end[1] == 'B' || end[1] == 'b')) end += 2; else if (*end == 'B' || *end == 'b') end++; }
  if (*end || (shift && v > (~0ULL >> shift))) return 0;
  *out = (uint64_t)v << shift;
  return 1;
}

__attribute__((constructor)) static void zcshim_init(void) {
  resolve_all();
  const char *c = getenv("ZCSHIM_CAP");
  if (c && *c && !parse_size(c, &cap)) {
    static const char msg[] = "zcshim: ZCSHIM_CAP is not a size (bytes, or with K/M/G/KiB/MiB/GiB); using 256 MiB\n";
    syscall(SYS_write, 2, msg, sizeof msg - 1);
  }
  const char *p = getenv("ZCSHIM_PROTECT");
  if (p && *p == '0') protect_on = 0;
  const char *g = getenv("ZCSHIM_LINGER");
  if (g && *g == '0') linger_on = 0;
  open_logs();
  if (log_fd < 0) return;  /* no log: the shim stays passive */
  fds = map_zero(sizeof(struct fdst) * MAX_FDS);
  ranges = map_zero(sizeof(struct range) * MAX_RANGES);
  pipes = map_zero(sizeof(struct pipest) * MAX_PIPES);
  pages = map_zero(sizeof(struct pageslot) * PAGE_SLOTS);
  gone = map_zero(sizeof(struct range) * MAX_RANGES);
  Dl_info info;
  if (dladdr((void *)zcshim_init, &info)) shim_text(info.dli_fname);
  void *warm[2];
  backtrace(warm, 2);  /* loads libgcc now, not inside a signal handler */
  log_start();
  if (protect_on) {
    altstack();
    struct sigaction a;
    memset(&a, 0, sizeof a);
    a.sa_sigaction = on_segv; a.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&a.sa_mask);
    real_sigaction(SIGSEGV, &a, NULL);
    real_sigaction(SIGBUS, &a, NULL);
    a.sa_sigaction = on_trap; a.sa_flags = SA_SIGINFO | SA_ONSTACK;
    real_sigaction(SIGTRAP, &a, NULL);
  }
  struct sigaction f;
  memset(&f, 0, sizeof f);
  f.sa_sigaction = on_fatal; f.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  real_sigaction(SIGABRT, &f, NULL);
  real_sigaction(SIGFPE, &f, NULL);
  real_sigaction(SIGILL, &f, NULL);
  struct sigaction t, old;
  memset(&t, 0, sizeof t);
  t.sa_handler = on_term; t.sa_flags = SA_RESETHAND;
  if (real_sigaction(SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_DFL) real_sigaction(SIGTERM, &t, NULL);
  pthread_atfork(NULL, NULL, child_after_fork);
  atexit(at_exit_log);
  ready = 1;
}
__attribute__((destructor)) static void zcshim_fini(void) { at_exit_log(); ready = 0; }
