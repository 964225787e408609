// The per-method send loops of zcbench, one message per call, each a transcription of the
// harness loop it is the reference for (file named in each comment) with the addon's syscall
// wrapper inlined: same flags, same chunking, same completion draining.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "zcbench.h"
#ifdef ZCBENCH_HAVE_LIBURING
#include <liburing.h>
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)  // kernel 6.2+, newer than liburing 2.3's headers
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif
static struct io_uring ring;
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

static void counted(struct stats *st, ssize_t got, size_t want) {
  st->calls++;
  if ((size_t)got < want) st->shorts++;
}

// write.ts writeAll (write and mmap-write)
void write_all(int fd, const uint8_t *p, size_t n, struct stats *st) {
  for (size_t done = 0; done < n;) {
    ssize_t r = write(fd, p + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("write");
    counted(st, r, n - done);
    done += (size_t)r;
  }
}

// sendfile.ts sendfileAll: from offset 0, the kernel advances the offset
void sendfile_all(int fd, int file_fd, size_t n, struct stats *st) {
  for (off_t off = 0; (size_t)off < n;) {
    ssize_t r = sendfile(fd, file_fd, &off, n - (size_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("sendfile");
    counted(st, r, n - (size_t)off + (size_t)r);
  }
}

// harness/methods/sources.ts drainPipeToSocket
static void drain_pipe(int pipe_r, int fd, size_t len, unsigned flags, struct stats *st) {
  while (len) {
    ssize_t r = splice(pipe_r, NULL, fd, NULL, len, flags);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("splice pipe->socket");
    counted(st, r, len);
    len -= (size_t)r;
  }
}

// splice.ts (file_fd >= 0: file -> pipe with splice) and vmsplice.ts (user memory -> pipe).
void via_pipe(int fd, const int pipe[2], size_t cap, int file_fd, const uint8_t *p, size_t n, struct stats *st) {
  for (size_t off = 0; off < n;) {
    size_t want = n - off < cap ? n - off : cap;
    loff_t at = (loff_t)off;
    struct iovec iov = {(void *)(p + off), want};
    ssize_t r = file_fd >= 0 ? splice(file_fd, &at, pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_MORE)
                             : vmsplice(pipe[1], &iov, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die(file_fd >= 0 ? "splice file->pipe" : "vmsplice");
    counted(st, r, want);
    // SPLICE_F_MORE (MSG_MORE) on every chunk but the message's last, as splice.ts/vmsplice.ts:
    // a corked tail would wait for the next message (or the FIN).
    unsigned more = off + (size_t)r < n ? SPLICE_F_MORE : 0;
    drain_pipe(pipe[0], fd, (size_t)r, SPLICE_F_MOVE | more, st);
    off += (size_t)r;
  }
}

// Non-blocking drain of the error queue (the addon's readZerocopyCompletions).
static void drain_errqueue(int fd, struct stats *st) {
  for (;;) {
    char control[128];
    struct msghdr msg = {0};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      die("recvmsg(MSG_ERRQUEUE)");
    }
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
            (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
        continue;
      struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(cm);
      if (e->ee_origin != SO_EE_ORIGIN_ZEROCOPY) continue;
      long long k = (long long)e->ee_data - (long long)e->ee_info + 1;
      st->zc_received += k;
      if (e->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) st->zc_copied += k;
    }
  }
}

// No loop exported by msg-zerocopy.ts fits a stream of messages (its tracker keeps a Set per
// case): the bench's loop (harness/bench/loops.ts) and this one send the same way, and drain the
// error queue without waiting after every message so optmem never fills with notifications.
void msg_zerocopy(int fd, const uint8_t *p, size_t n, struct stats *st) {
  for (size_t done = 0; done < n;) {
    ssize_t r = send(fd, p + done, n - done, MSG_ZEROCOPY | MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ENOBUFS) {  // optmem full of pending notifications: collect, retry
      struct pollfd pf = {fd, 0, 0};
      poll(&pf, 1, 10);
      drain_errqueue(fd, st);
      continue;
    }
    if (r <= 0) die("send(MSG_ZEROCOPY)");
    counted(st, r, n - done);
    st->zc_expected++;
    done += (size_t)r;
  }
  drain_errqueue(fd, st);
}

#ifdef ZCBENCH_HAVE_LIBURING
int uring_compiled(void) { return 1; }

int uring_probe_send_zc(void) {
  struct io_uring_probe *p = io_uring_get_probe();
  if (!p) return 0;
  int ok = io_uring_opcode_supported(p, IORING_OP_SEND_ZC);
  io_uring_free_probe(p);
  return ok;
}

// One ring per connection, 8 entries, as the addon's uringCreate(8).
void uring_init(void) {
  int err = io_uring_queue_init(8, &ring, 0);
  if (err < 0) errno = -err, die("io_uring_queue_init");
}

static void uring_notif(uint32_t flags, int32_t res, struct stats *st) {
  if (!(flags & IORING_CQE_F_NOTIF)) return;
  st->zc_received++;
  if ((uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED) st->zc_copied++;
}

// The addon's uringSendZc: submit one SEND_ZC, wait for its result CQE, set notifs aside.
void uring_send_zc(int fd, const uint8_t *p, size_t n, struct stats *st) {
  static uint64_t next_id = 1;
  struct io_uring_cqe *cqe;
  for (size_t done = 0; done < n;) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (!sqe) usage("io_uring: no free SQE", NULL);
    uint64_t id = next_id++;
    io_uring_prep_send_zc(sqe, fd, p + done, n - done, 0, IORING_SEND_ZC_REPORT_USAGE);
    sqe->user_data = id;
    int err = io_uring_submit(&ring);
    if (err < 0) errno = -err, die("io_uring_submit");
    for (;;) {
      err = io_uring_wait_cqe(&ring, &cqe);
      if (err == -EINTR) continue;
      if (err < 0) errno = -err, die("io_uring_wait_cqe");
      uint64_t ud = cqe->user_data;
      int32_t res = cqe->res;
      uint32_t flags = cqe->flags;
      io_uring_cqe_seen(&ring, cqe);
      if (flags & IORING_CQE_F_NOTIF) {
        uring_notif(flags, res, st);
        continue;
      }
      if (ud != id) continue;
      if (res <= 0) errno = res ? -res : EIO, die("io_uring SEND_ZC");
      counted(st, res, n - done);
      if (flags & IORING_CQE_F_MORE) st->zc_expected++;
      done += (size_t)res;
      break;
    }
  }
  // The harness drains notifs after each message with uringWaitNotif(ring, 0): same here.
  while (io_uring_peek_cqe(&ring, &cqe) == 0) {
    uring_notif(cqe->flags, cqe->res, st);
    io_uring_cqe_seen(&ring, cqe);
  }
}
#else
int uring_compiled(void) { return 0; }
int uring_probe_send_zc(void) { return 0; }
void uring_init(void) { usage("io-uring-zc: built without liburing", NULL); }
void uring_send_zc(int fd, const uint8_t *p, size_t n, struct stats *st) { (void)fd, (void)p, (void)n, (void)st; }
#endif

void wait_zc(int fd, enum method m, struct stats *st) {
  int64_t deadline = now_ns() + 10LL * 1000000000;
  while (st->zc_received < st->zc_expected && now_ns() < deadline) {
#ifdef ZCBENCH_HAVE_LIBURING
    if (m == M_IO_URING_ZC) {
      struct io_uring_cqe *cqe;
      struct __kernel_timespec ts = {0, 100000000};
      if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) {
        uring_notif(cqe->flags, cqe->res, st);
        io_uring_cqe_seen(&ring, cqe);
      }
      continue;
    }
#endif
    struct pollfd pf = {fd, 0, 0};
    poll(&pf, 1, 100);
    drain_errqueue(fd, st);
  }
  (void)m;
}
