// The reading side of the wrap overhead measurement: connects to 127.0.0.1:PORT N times, one after the
// other, reads each response to EOF as fast as it can, and prints "BYTES SECONDS" for all of them.
// Usage: drain PORT N
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s PORT N\n", argv[0]); return 2; }
  int port = atoi(argv[1]), n = atoi(argv[2]);
  static char buf[1 << 20];
  unsigned long long total = 0;
  double t0 = now();
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    for (;;) {
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) { perror("read"); return 1; }
      if (r == 0) break;
      total += (unsigned long long)r;
    }
    close(fd);
  }
  printf("%llu %.6f\n", total, now() - t0);
  return 0;
}
