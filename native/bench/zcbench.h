// Shared by zcbench.c (command line, receiver, timed run) and loops.c (the per-method send loops).
#pragma once
#include <stddef.h>
#include <stdint.h>

enum method { M_WRITE, M_MMAP_WRITE, M_SENDFILE, M_SPLICE, M_VMSPLICE, M_MSG_ZEROCOPY, M_IO_URING_ZC, M_COUNT };

struct stats {
  long long calls, shorts, zc_expected, zc_received, zc_copied;
};

void die(const char *what);
void usage(const char *msg, const char *arg);
int64_t now_ns(void);

// One message each: loop over short counts, as harness/methods do.
void write_all(int fd, const uint8_t *p, size_t n, struct stats *st);
void sendfile_all(int fd, int file_fd, size_t n, struct stats *st);
void via_pipe(int fd, const int pipe[2], size_t cap, int file_fd, const uint8_t *p, size_t n, struct stats *st);
void msg_zerocopy(int fd, const uint8_t *p, size_t n, struct stats *st);
// 1 when built with liburing (then uring_* work), else 0.
int uring_compiled(void);
int uring_probe_send_zc(void);
void uring_init(void);
void uring_send_zc(int fd, const uint8_t *p, size_t n, struct stats *st);
// Waits (bounded) until every zero-copy send has its completion.
void wait_zc(int fd, enum method m, struct stats *st);
