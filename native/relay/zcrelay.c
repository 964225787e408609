// zcrelay: the link of the `tun` transport. It creates one TUN device in the sender's network
// namespace (A) and one in the receiver's (B), then copies every packet read from one device into
// the other, so the receiving kernel builds its own skb from the relay's buffer, as from a NIC.
// On the way it can delay, jitter, rate-limit, drop and reorder packets (the netem this kernel
// lacks), deterministically given a seed, and it reports every injected event as a JSON line.
//   zcrelay --a NETNS_PATH:IFNAME --b NETNS_PATH:IFNAME [--exec PROG ARGS...]
// stdout: {"type":"ready",...} once both devices exist, then events and answers (JSON lines).
// stdin (lines): "config k=v ..." (applies from the next packet on), "mark N" (answered after
// every earlier event is written), "stats". EOF on stdin ends the relay; so does its parent's
// death (PR_SET_PDEATHSIG). The devices are not persistent: they vanish with the relay.
// --exec: create the devices, then exec PROG with them as fds 3 (A) and 4 (B) (a relay written
// in another language, for the bench's comparison).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKT 65536      // read buffer: larger than any MTU we configure
#define QUEUE_CAP 4096     // packets held per direction (delay/rate); beyond: an "overflow" drop
#define QUEUE_BYTES (64u << 20)  // and at most this many bytes per direction
#define FLOWS 64           // TCP connections tracked (segment numbering, ISN), oldest evicted
#define MAX_RANGES 64      // "#3,#7-9" terms of a loss/reorder spec
#define BURST 64           // packets drained from one device before looking at the other

enum dir { S2R, R2S };
static const char *const DIR_NAME[2] = {"s2r", "r2s"};

// One fault: a probability (seeded) or explicit segment numbers (1-based, per connection).
struct selector {
  double p;
  int nranges;
  uint64_t lo[MAX_RANGES], hi[MAX_RANGES];
};

struct config {
  uint64_t delay_ns, jitter_ns, rate_bps, seed;
  struct selector loss, reorder;
};

struct pkt {
  uint64_t release_ns;
  uint32_t len;
  uint8_t *data;
};

struct queue {
  struct pkt ring[QUEUE_CAP];
  unsigned head, count;
  uint64_t bytes, last_release_ns, link_free_ns;
  struct pkt held;         // a reordered segment, sent after the next packet (or at its deadline)
  uint64_t held_deadline_ns;
  int has_held;
};

struct flow {
  int used;
  uint8_t family, saddr[16], daddr[16];
  uint16_t sport, dport;   // of the s2r direction
  int have_isn;
  uint32_t isn;
  uint64_t segments;       // data segments seen s2r (the "#N" of a spec)
  uint64_t packets[2];     // per direction (jitter draws)
  uint64_t max_end;        // highest s2r sequence end seen, relative: retransmission detection
  uint64_t last_used;
};

struct counters {
  uint64_t packets, bytes, dropped, reordered, overflow, errors;
};

static struct config cfg;
static struct queue q[2];
static struct flow flows[FLOWS];
static struct counters cnt[2];
static uint64_t flow_clock, max_depth;
static int dev_fd[2];      // [S2R] reads A (sender side), [R2S] reads B
static int netdev_fd[2];   // /proc/thread-self/net/dev opened inside each device's namespace
static char dev_name[2][IFNAMSIZ];

static void die(const char *what) {
  fprintf(stderr, "zcrelay: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void usage(const char *msg) {
  fprintf(stderr, "zcrelay: %s\nusage: zcrelay --a NETNS_PATH:IFNAME --b NETNS_PATH:IFNAME [--exec PROG ARGS...]\n", msg);
  exit(2);
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double epoch_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

// Counter-based randomness: a draw depends only on (seed, connection-local counter, purpose), so a
// case replays the same faults whatever ran before it in the session.
static uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
static double uniform(uint64_t counter, uint64_t purpose) {
  uint64_t r = splitmix(splitmix(cfg.seed ^ (purpose * 0x100000001b3ull)) ^ counter);
  return (double)(r >> 11) / 9007199254740992.0;  // [0, 1)
}

static int selects(const struct selector *s, uint64_t n, uint64_t purpose) {
  for (int i = 0; i < s->nranges; i++)
    if (n >= s->lo[i] && n <= s->hi[i]) return 1;
  return s->p > 0 && uniform(n, purpose) < s->p;
}

// "p:0.01" or "n:3,7-9" (the harness translates its user-facing spec into this).
static int parse_selector(const char *v, struct selector *s) {
  memset(s, 0, sizeof *s);
  char *end;
  if (!strncmp(v, "p:", 2)) {
    s->p = strtod(v + 2, &end);
    return *end == 0 && s->p >= 0 && s->p <= 1;
  }
  if (strncmp(v, "n:", 2)) return !strcmp(v, "none");
  for (const char *p = v + 2; *p;) {
    if (s->nranges == MAX_RANGES) return 0;
    uint64_t lo = strtoull(p, &end, 10), hi = lo;
    if (end == p || lo == 0) return 0;
    if (*end == '-') {
      p = end + 1;
      hi = strtoull(p, &end, 10);
      if (end == p || hi < lo) return 0;
    }
    s->lo[s->nranges] = lo;
    s->hi[s->nranges++] = hi;
    if (*end == ',') end++;
    else if (*end) return 0;
    p = end;
  }
  return 1;
}

static int apply_config(char *line) {
  struct config c = {.seed = cfg.seed};
  for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
    char *eq = strchr(tok, '=');
    if (!eq) return 0;
    *eq = 0;
    const char *k = tok, *v = eq + 1;
    char *end;
    if (!strcmp(k, "delay_us")) c.delay_ns = strtoull(v, &end, 10) * 1000;
    else if (!strcmp(k, "jitter_us")) c.jitter_ns = strtoull(v, &end, 10) * 1000;
    else if (!strcmp(k, "rate_bps")) c.rate_bps = strtoull(v, &end, 10);
    else if (!strcmp(k, "seed")) c.seed = strtoull(v, &end, 10);
    else if (!strcmp(k, "loss")) { if (!parse_selector(v, &c.loss)) return 0; continue; }
    else if (!strcmp(k, "reorder")) { if (!parse_selector(v, &c.reorder)) return 0; continue; }
    else return 0;
    if (*end) return 0;
  }
  cfg = c;
  return 1;
}

// The TCP view of a packet, when it is one (IPv4 without fragments, IPv6 without extensions).
struct tcpinfo {
  uint8_t family, saddr[16], daddr[16], flags;
  uint16_t sport, dport;
  uint32_t seq, len;
};

static int parse_tcp(const uint8_t *p, uint32_t n, struct tcpinfo *t) {
  uint32_t ip_len, tcp_off, total;
  memset(t, 0, sizeof *t);
  if (n >= 20 && p[0] >> 4 == 4) {
    ip_len = (p[0] & 15u) * 4;
    total = (uint32_t)p[2] << 8 | p[3];
    if (p[9] != 6 || ip_len < 20 || total > n || (((uint32_t)p[6] << 8 | p[7]) & 0x3fff)) return 0;
    t->family = 4;
    memcpy(t->saddr, p + 12, 4);
    memcpy(t->daddr, p + 16, 4);
  } else if (n >= 40 && p[0] >> 4 == 6) {
    ip_len = 40;
    total = 40 + ((uint32_t)p[4] << 8 | p[5]);
    if (p[6] != 6 || total > n) return 0;
    t->family = 6;
    memcpy(t->saddr, p + 8, 16);
    memcpy(t->daddr, p + 24, 16);
  } else {
    return 0;
  }
  if (total < ip_len + 20) return 0;
  tcp_off = ((uint32_t)p[ip_len + 12] >> 4) * 4;
  if (tcp_off < 20 || ip_len + tcp_off > total) return 0;
  t->sport = (uint16_t)(p[ip_len] << 8 | p[ip_len + 1]);
  t->dport = (uint16_t)(p[ip_len + 2] << 8 | p[ip_len + 3]);
  t->seq = (uint32_t)p[ip_len + 4] << 24 | (uint32_t)p[ip_len + 5] << 16 | (uint32_t)p[ip_len + 6] << 8 | p[ip_len + 7];
  t->flags = p[ip_len + 13];
  t->len = total - ip_len - tcp_off;
  return 1;
}

#define TCP_SYN 0x02
#define TCP_ACK 0x10

static int same(const struct flow *f, const struct tcpinfo *t, int reversed) {
  size_t a = t->family == 4 ? 4 : 16;
  if (f->family != t->family) return 0;
  if (!reversed) return f->sport == t->sport && f->dport == t->dport && !memcmp(f->saddr, t->saddr, a) && !memcmp(f->daddr, t->daddr, a);
  return f->sport == t->dport && f->dport == t->sport && !memcmp(f->saddr, t->daddr, a) && !memcmp(f->daddr, t->saddr, a);
}

// The connection of a packet; a sender's SYN (re)starts it, so a reused 4-tuple counts afresh.
static struct flow *flow_of(const struct tcpinfo *t, enum dir d) {
  struct flow *f = NULL, *oldest = &flows[0];
  for (int i = 0; i < FLOWS; i++) {
    if (flows[i].used && same(&flows[i], t, d == R2S)) { f = &flows[i]; break; }
    if (!flows[i].used || (oldest->used && flows[i].last_used < oldest->last_used)) oldest = &flows[i];
  }
  int syn = d == S2R && (t->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
  if (!f || (syn && (!f->have_isn || f->isn != t->seq))) {
    if (d == R2S && !f) return NULL;  // only the sender's side opens connections here
    f = f ? f : oldest;
    memset(f, 0, sizeof *f);
    f->used = 1;
    f->family = t->family;
    memcpy(f->saddr, t->saddr, 16);
    memcpy(f->daddr, t->daddr, 16);
    f->sport = t->sport;
    f->dport = t->dport;
    if (syn) { f->have_isn = 1; f->isn = t->seq; }
  }
  f->last_used = ++flow_clock;
  return f;
}

static void event(const char *kind, const char *cause, enum dir d, const struct tcpinfo *t, const struct flow *f,
                  int rexmit) {
  char s[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
  int af = t->family == 4 ? AF_INET : AF_INET6;
  inet_ntop(af, t->saddr, s, sizeof s);
  inet_ntop(af, t->daddr, dst, sizeof dst);
  printf("{\"type\":\"event\",\"kind\":\"%s\",\"cause\":\"%s\",\"dir\":\"%s\",\"at\":%.3f,\"src\":\"%s\",\"srcPort\":%u,"
         "\"dst\":\"%s\",\"dstPort\":%u,\"seq\":%u,\"len\":%u,\"flags\":%u",
         kind, cause, DIR_NAME[d], epoch_ms(), s, t->sport, dst, t->dport, t->seq, t->len, t->flags);
  if (f && f->have_isn) printf(",\"offset\":%u", t->seq - f->isn - 1);
  if (f && d == S2R && t->len) printf(",\"segment\":%llu,\"retransmission\":%s", (unsigned long long)f->segments, rexmit ? "true" : "false");
  printf("}\n");
}

static void deliver(enum dir d, const uint8_t *p, uint32_t n) {
  // Tun writes do not block; a refusal (no buffer, device gone) is a loss the user did not ask for.
  ssize_t w;
  do w = write(dev_fd[!d], p, n); while (w < 0 && errno == EINTR);
  if (w != (ssize_t)n) {
    cnt[d].errors++;
    fprintf(stderr, "zcrelay: write %s (%u bytes): %s\n", DIR_NAME[d], n, w < 0 ? strerror(errno) : "short");
    return;
  }
  cnt[d].packets++;
  cnt[d].bytes += n;
}

static int shaping(void) {
  return cfg.delay_ns || cfg.jitter_ns || cfg.rate_bps;
}

// Queues a copy of the packet, released at its arrival time on the far side of the modelled link:
// it leaves when the link is free (rate), then takes delay ± jitter; order is kept (FIFO).
static int enqueue(enum dir d, const uint8_t *p, uint32_t n, uint64_t now, int64_t jitter) {
  struct queue *qu = &q[d];
  if (qu->count == QUEUE_CAP || qu->bytes + n > QUEUE_BYTES) return 0;
  uint8_t *copy = malloc(n);
  if (!copy) return 0;
  memcpy(copy, p, n);
  uint64_t leave = now > qu->link_free_ns ? now : qu->link_free_ns;
  if (cfg.rate_bps) leave += (uint64_t)n * 8 * 1000000000ull / cfg.rate_bps;
  qu->link_free_ns = leave;
  int64_t arrive = (int64_t)(leave + cfg.delay_ns) + jitter;
  uint64_t release = arrive < (int64_t)now ? now : (uint64_t)arrive;
  if (release < qu->last_release_ns) release = qu->last_release_ns;
  qu->last_release_ns = release;
  qu->ring[(qu->head + qu->count++) % QUEUE_CAP] = (struct pkt){release, n, copy};
  qu->bytes += n;
  if (qu->count > max_depth) max_depth = qu->count;
  return 1;
}

static void release_held(enum dir d, uint64_t now) {
  struct queue *qu = &q[d];
  if (!qu->has_held) return;
  qu->has_held = 0;
  if (shaping() || qu->count) {
    if (!enqueue(d, qu->held.data, qu->held.len, now, 0)) cnt[d].overflow++;
  } else {
    deliver(d, qu->held.data, qu->held.len);
  }
  free(qu->held.data);
}

static void forward(enum dir d, uint8_t *p, uint32_t n, uint64_t now) {
  struct tcpinfo t;
  struct flow *f = NULL;
  int is_tcp = parse_tcp(p, n, &t), rexmit = 0;
  int64_t jitter = 0;
  if (is_tcp) f = flow_of(&t, d);
  if (f) {
    uint64_t k = ++f->packets[d];
    if (cfg.jitter_ns) jitter = (int64_t)((uniform(k, 3 + d) * 2 - 1) * (double)cfg.jitter_ns);
  }
  if (f && d == S2R && t.len) {
    uint64_t k = ++f->segments;
    if (f->have_isn) {
      uint64_t end = (uint32_t)(t.seq - f->isn - 1) + (uint64_t)t.len;
      rexmit = end <= f->max_end;
      if (end > f->max_end) f->max_end = end;
    }
    if (selects(&cfg.loss, k, 1)) {
      cnt[d].dropped++;
      event("drop", "loss", d, &t, f, rexmit);
      return;
    }
    if (selects(&cfg.reorder, k, 2) && !q[d].has_held) {
      uint8_t *copy = malloc(n);
      if (copy) {
        memcpy(copy, p, n);
        q[d].held = (struct pkt){0, n, copy};
        q[d].has_held = 1;
        // Never held longer than the link's own delay (or 1 ms): a quiet connection still gets it.
        q[d].held_deadline_ns = now + (cfg.delay_ns > 1000000 ? cfg.delay_ns : 1000000);
        cnt[d].reordered++;
        event("reorder", "reorder", d, &t, f, rexmit);
        return;
      }
    }
  }
  if (!shaping() && !q[d].count) {
    deliver(d, p, n);
  } else if (!enqueue(d, p, n, now, jitter)) {
    cnt[d].overflow++;
    if (is_tcp) event("drop", "overflow", d, &t, f, rexmit);
  }
  release_held(d, now);  // the held segment goes right behind the packet that overtook it
}

static void drain_due(enum dir d, uint64_t now) {
  struct queue *qu = &q[d];
  while (qu->count && qu->ring[qu->head].release_ns <= now) {
    struct pkt *k = &qu->ring[qu->head];
    deliver(d, k->data, k->len);
    qu->bytes -= k->len;
    free(k->data);
    qu->head = (qu->head + 1) % QUEUE_CAP;
    qu->count--;
  }
  if (qu->has_held && qu->held_deadline_ns <= now) release_held(d, now);
}

// The device's own drop counters (its queue towards us overflowed: tx, or the stack refused what
// we wrote: rx), read from /net/dev of its namespace (the fd was opened there).
static void device_drops(int side, unsigned long long *rx_drop, unsigned long long *tx_drop) {
  static char text[1 << 16];
  *rx_drop = *tx_drop = 0;
  ssize_t n = pread(netdev_fd[side], text, sizeof text - 1, 0);
  if (n <= 0) return;
  text[n] = 0;
  size_t len = strlen(dev_name[side]);
  for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    while (*line == ' ') line++;
    if (strncmp(line, dev_name[side], len) || line[len] != ':') continue;
    unsigned long long v[16] = {0};
    sscanf(line + len + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
           &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]);
    *rx_drop = v[3];
    *tx_drop = v[11];
    return;
  }
}

static void print_stats(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"type\":\"stats\"");
  for (int d = 0; d < 2; d++)
    printf(",\"%s\":{\"packets\":%llu,\"bytes\":%llu,\"dropped\":%llu,\"reordered\":%llu,\"overflow\":%llu,\"errors\":%llu,\"queued\":%u}",
           DIR_NAME[d], (unsigned long long)cnt[d].packets, (unsigned long long)cnt[d].bytes, (unsigned long long)cnt[d].dropped,
           (unsigned long long)cnt[d].reordered, (unsigned long long)cnt[d].overflow, (unsigned long long)cnt[d].errors,
           q[d].count + q[d].has_held);
  for (int side = 0; side < 2; side++) {
    unsigned long long rx, tx;
    device_drops(side, &rx, &tx);
    printf(",\"%s\":{\"rxDropped\":%llu,\"txDropped\":%llu}", side ? "deviceB" : "deviceA", rx, tx);
  }
  printf(",\"maxQueue\":%llu,\"cpuUserUs\":%lld,\"cpuSysUs\":%lld}\n", (unsigned long long)max_depth,
         (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec, (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
}

// Control lines from the harness; returns 0 at EOF.
static int control(void) {
  static char buf[8192];
  static size_t have;
  ssize_t r = read(0, buf + have, sizeof buf - 1 - have);
  if (r == 0) return 0;
  if (r < 0) return errno == EINTR || errno == EAGAIN;
  have += (size_t)r;
  for (char *nl; (nl = memchr(buf, '\n', have));) {
    *nl = 0;
    if (!strncmp(buf, "config", 6)) {
      int ok = apply_config(buf + 6);
      printf("{\"type\":\"config\",\"ok\":%s}\n", ok ? "true" : "false");
    } else if (!strncmp(buf, "mark ", 5)) {
      printf("{\"type\":\"mark\",\"n\":%lld}\n", strtoll(buf + 5, NULL, 10));
    } else if (!strcmp(buf, "stats")) {
      print_stats();
    } else {
      printf("{\"type\":\"error\",\"message\":\"unknown command\"}\n");
    }
    fflush(stdout);
    size_t used = (size_t)(nl - buf) + 1;
    memmove(buf, nl + 1, have - used);
    have -= used;
  }
  if (have == sizeof buf - 1) have = 0;  // an overlong line: drop it
  return 1;
}

// Opens /dev/net/tun inside the namespace at `ns_path` and creates IFNAME there (TUN, no packet
// info header: the device carries bare IP packets, as tcpdump sees them).
static int open_tun(const char *spec, int side) {
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || strlen(colon + 1) == 0 || strlen(colon + 1) >= IFNAMSIZ) usage("device must be NETNS_PATH:IFNAME");
  char path[4096];
  snprintf(path, sizeof path, "%.*s", (int)(colon - spec), spec);
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns = open(path, O_RDONLY | O_CLOEXEC);
  if (self < 0 || ns < 0) die(path);
  if (setns(ns, CLONE_NEWNET)) die("setns");
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) die("/dev/net/tun");
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", colon + 1);
  if (ioctl(fd, TUNSETIFF, &ifr)) die("TUNSETIFF");
  snprintf(dev_name[side], IFNAMSIZ, "%s", ifr.ifr_name);
  netdev_fd[side] = open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC);
  if (netdev_fd[side] < 0) die("/proc/thread-self/net/dev");
  if (setns(self, CLONE_NEWNET)) die("setns back");
  close(self);
  close(ns);
  return fd;
}

static uint64_t next_deadline(void) {
  uint64_t t = UINT64_MAX;
  for (int d = 0; d < 2; d++) {
    if (q[d].count && q[d].ring[q[d].head].release_ns < t) t = q[d].ring[q[d].head].release_ns;
    if (q[d].has_held && q[d].held_deadline_ns < t) t = q[d].held_deadline_ns;
  }
  return t;
}

int main(int argc, char **argv) {
  pid_t parent = getppid();
  // Never outlive the harness: its death kills us, and with us the devices.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent) return 1;
  const char *a = NULL, *b = NULL;
  char **exec_argv = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--a") && i + 1 < argc) a = argv[++i];
    else if (!strcmp(argv[i], "--b") && i + 1 < argc) b = argv[++i];
    else if (!strcmp(argv[i], "--exec") && i + 1 < argc) { exec_argv = argv + i + 1; break; }
    else usage("unknown or incomplete argument");
  }
  if (!a || !b) usage("--a and --b are required");
  dev_fd[S2R] = open_tun(a, 0);
  dev_fd[R2S] = open_tun(b, 1);
  if (exec_argv) {
    if (dup2(dev_fd[S2R], 3) != 3 || dup2(dev_fd[R2S], 4) != 4) die("dup2");
    for (int fd = 3; fd <= 4; fd++) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    execvp(exec_argv[0], exec_argv);
    die(exec_argv[0]);
  }
  static char out[1 << 16];
  setvbuf(stdout, out, _IOFBF, sizeof out);
  printf("{\"type\":\"ready\",\"pid\":%d}\n", (int)getpid());
  fflush(stdout);
  static uint8_t buf[MAX_PKT];
  struct pollfd pf[3] = {{dev_fd[S2R], POLLIN, 0}, {dev_fd[R2S], POLLIN, 0}, {0, POLLIN, 0}};
  for (;;) {
    uint64_t now = mono_ns(), due = next_deadline(), wait = due <= now ? 0 : due - now;
    // ppoll, not poll: its timeout has nanosecond resolution, so rate pacing (~120 us per packet
    // at 100 Mbit/s) neither spins nor rounds up to whole milliseconds.
    struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
    int r = ppoll(pf, 3, due == UINT64_MAX ? NULL : &ts, NULL);
    if (r < 0 && errno != EINTR) die("poll");
    now = mono_ns();
    for (int d = 0; d < 2; d++) {
      drain_due((enum dir)d, now);
      if (!(pf[d].revents & POLLIN)) continue;
      for (int i = 0; i < BURST; i++) {
        ssize_t n = read(dev_fd[d], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        forward((enum dir)d, buf, (uint32_t)n, now);
      }
      if (pf[d].revents & (POLLERR | POLLHUP)) { errno = EIO; die(DIR_NAME[d]); }
    }
    if (pf[2].revents & (POLLIN | POLLHUP) && !control()) break;
  }
  fflush(stdout);
  return 0;
}
