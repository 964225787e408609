// Sockets on raw fds: the sender side must own its fd so zero-copy paths see exactly one
// socket and no libuv buffering.
#include "common.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <cstdlib>
#include <netinet/in.h>
#include <linux/tcp.h>  // not netinet/tcp.h: glibc's tcp_info lacks bytes_acked/notsent_bytes
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace zc {

static bool ParseAddr(Napi::Env env, const Napi::Value& host, int64_t port, sockaddr_storage* ss,
                      socklen_t* len) {
  if (!host.IsString()) {
    ThrowType(env, "host must be a string");
    return false;
  }
  std::string h = host.As<Napi::String>().Utf8Value();
  memset(ss, 0, sizeof(*ss));
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(*v4);
    return true;
  }
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(*v6);
    return true;
  }
  ThrowType(env, "not an IPv4/IPv6 address: " + h);
  return false;
}

static Napi::Value AddrToObject(Napi::Env env, const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  Napi::Object o = Napi::Object::New(env);
  if (ss.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
    o.Set("port", Num(env, ntohs(v4->sin_port)));
  } else {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
    o.Set("port", Num(env, ntohs(v6->sin6_port)));
  }
  o.Set("address", Napi::String::New(env, buf));
  o.Set("family", Napi::String::New(env, ss.ss_family == AF_INET ? "IPv4" : "IPv6"));
  return o;
}

// A socket belongs to the network namespace of the thread that creates it. To create one in
// another namespace (the tun transport's sender side), this thread enters it for the one call and
// returns at once: setns(CLONE_NEWNET) changes only the calling thread, and no JS runs meanwhile.
// Failing to return would leave the main thread in the wrong namespace: that aborts.
static int SocketIn(const std::string& netns, int domain, int type, int protocol, const char** failed) {
  if (netns.empty()) {
    *failed = "socket";
    return socket(domain, type, protocol);
  }
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return *failed = "open /proc/thread-self/ns/net", -1;
  int target = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    errno = e;
    return *failed = "open netns", -1;
  }
  int fd = -1, err = 0;
  if (setns(target, CLONE_NEWNET) != 0) {
    err = errno;
    *failed = "setns";
  } else {
    fd = socket(domain, type, protocol);
    err = errno;
    *failed = "socket";
    if (setns(self, CLONE_NEWNET) != 0) abort();
  }
  close(target);
  close(self);
  errno = err;
  return fd;
}

// socket(family 4|6, opts?: {type?: 'stream'|'dgram', netns?: path}) → fd of a blocking TCP (or
// UDP) socket (SOCK_CLOEXEC), created in the network namespace at `netns` when given.
static Napi::Value Socket(const Napi::CallbackInfo& info) {
  int64_t fam;
  if (!ArgInt(info, 0, &fam)) return info.Env().Undefined();
  bool dgram = false;
  std::string netns;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value t = o.Get("type"), ns = o.Get("netns");
    if (t.IsString()) dgram = t.As<Napi::String>().Utf8Value() == "dgram";
    if (ns.IsString()) netns = ns.As<Napi::String>().Utf8Value();
  }
  const char* failed = "socket";
  int fd = SocketIn(netns, fam == 6 ? AF_INET6 : AF_INET, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
                    dgram ? IPPROTO_UDP : IPPROTO_TCP, &failed);
  if (fd < 0) return ThrowErrno(info.Env(), failed, errno);
  return Num(info.Env(), fd);
}

// sendto(fd, buf, off, len, host, port) → bytes sent (a datagram).
static Napi::Value SendTo(const Napi::CallbackInfo& info) {
  int64_t fd, port;
  uint8_t* p;
  size_t n;
  sockaddr_storage ss;
  socklen_t len;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &p, &n) || !ArgInt(info, 5, &port)) return info.Env().Undefined();
  if (!ParseAddr(info.Env(), info[4], port, &ss, &len)) return info.Env().Undefined();
  ssize_t r;
  do r = sendto(fd, p, n, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "sendto", errno);
  return Num(info.Env(), static_cast<double>(r));
}

// bind(fd, host, port) / connect(fd, host, port)
static Napi::Value Bind(const Napi::CallbackInfo& info) {
  int64_t fd, port;
  sockaddr_storage ss;
  socklen_t len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 2, &port)) return info.Env().Undefined();
  if (!ParseAddr(info.Env(), info[1], port, &ss, &len)) return info.Env().Undefined();
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return ThrowErrno(info.Env(), "bind", errno);
  return info.Env().Undefined();
}

static Napi::Value Connect(const Napi::CallbackInfo& info) {
  int64_t fd, port;
  sockaddr_storage ss;
  socklen_t len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 2, &port)) return info.Env().Undefined();
  if (!ParseAddr(info.Env(), info[1], port, &ss, &len)) return info.Env().Undefined();
  int r;
  do r = connect(fd, reinterpret_cast<sockaddr*>(&ss), len); while (r != 0 && errno == EINTR);
  if (r != 0) return ThrowErrno(info.Env(), "connect", errno);
  return info.Env().Undefined();
}

static Napi::Value Listen(const Napi::CallbackInfo& info) {
  int64_t fd, backlog;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &backlog)) return info.Env().Undefined();
  if (listen(fd, backlog) != 0) return ThrowErrno(info.Env(), "listen", errno);
  return info.Env().Undefined();
}

// accept(fd) → new fd (blocking).
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  int r;
  do r = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "accept", errno);
  return Num(info.Env(), r);
}

static Napi::Value Close(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  if (close(fd) != 0) return ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

// shutdown(fd, how 0|1|2)
static Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int64_t fd, how;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &how)) return info.Env().Undefined();
  if (shutdown(fd, how) != 0) return ThrowErrno(info.Env(), "shutdown", errno);
  return info.Env().Undefined();
}

// getsockname(fd) / getpeername(fd) → {address, port, family}
static Napi::Value GetName(const Napi::CallbackInfo& info, bool peer) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r != 0) return ThrowErrno(info.Env(), peer ? "getpeername" : "getsockname", errno);
  return AddrToObject(info.Env(), ss);
}
static Napi::Value GetSockName(const Napi::CallbackInfo& info) { return GetName(info, false); }
static Napi::Value GetPeerName(const Napi::CallbackInfo& info) { return GetName(info, true); }

// setsockoptInt(fd, level, name, value) / getsockoptInt(fd, level, name) → value
static Napi::Value SetSockOptInt(const Napi::CallbackInfo& info) {
  int64_t fd, level, name, value;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) ||
      !ArgInt(info, 3, &value))
    return info.Env().Undefined();
  int v = static_cast<int>(value);
  if (setsockopt(fd, level, name, &v, sizeof(v)) != 0) return ThrowErrno(info.Env(), "setsockopt", errno);
  return info.Env().Undefined();
}

static Napi::Value GetSockOptInt(const Napi::CallbackInfo& info) {
  int64_t fd, level, name;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name))
    return info.Env().Undefined();
  int v = 0;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, name, &v, &len) != 0) return ThrowErrno(info.Env(), "getsockopt", errno);
  return Num(info.Env(), v);
}

// ioctlInt(fd, request) → int result (SIOCOUTQ, SIOCOUTQNSD, SIOCINQ).
static Napi::Value IoctlInt(const Napi::CallbackInfo& info) {
  int64_t fd, req;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &req)) return info.Env().Undefined();
  int v = 0;
  if (ioctl(fd, static_cast<unsigned long>(req), &v) != 0) return ThrowErrno(info.Env(), "ioctl", errno);
  return Num(info.Env(), v);
}

// tcpInfo(fd) → the TCP_INFO fields that say where the bytes are.
static Napi::Value TcpInfo(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  struct tcp_info ti;
  memset(&ti, 0, sizeof(ti));
  socklen_t len = sizeof(ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return ThrowErrno(info.Env(), "getsockopt", errno);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("state", Num(env, ti.tcpi_state));
  o.Set("unacked", Num(env, ti.tcpi_unacked));
  o.Set("retransmits", Num(env, ti.tcpi_total_retrans));
  o.Set("bytesAcked", Num(env, static_cast<double>(ti.tcpi_bytes_acked)));
  o.Set("bytesSent", Num(env, static_cast<double>(ti.tcpi_bytes_sent)));
  o.Set("notsentBytes", Num(env, ti.tcpi_notsent_bytes));
  o.Set("rttUs", Num(env, ti.tcpi_rtt));
  return o;
}

// poll(fd, events, timeoutMs) → revents (0 on timeout).
static Napi::Value Poll(const Napi::CallbackInfo& info) {
  int64_t fd, events, timeout;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &events) || !ArgInt(info, 2, &timeout))
    return info.Env().Undefined();
  struct pollfd p = {static_cast<int>(fd), static_cast<short>(events), 0};
  int r;
  do r = poll(&p, 1, timeout); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "poll", errno);
  return Num(info.Env(), r == 0 ? 0 : p.revents);
}

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("sendto", Napi::Function::New(env, SendTo));
  exports.Set("bind", Napi::Function::New(env, Bind));
  exports.Set("connect", Napi::Function::New(env, Connect));
  exports.Set("listen", Napi::Function::New(env, Listen));
  exports.Set("accept", Napi::Function::New(env, Accept));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName));
  exports.Set("getpeername", Napi::Function::New(env, GetPeerName));
  exports.Set("setsockoptInt", Napi::Function::New(env, SetSockOptInt));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetSockOptInt));
  exports.Set("ioctlInt", Napi::Function::New(env, IoctlInt));
  exports.Set("tcpInfo", Napi::Function::New(env, TcpInfo));
  exports.Set("poll", Napi::Function::New(env, Poll));
  Napi::Object c = Napi::Object::New(env);
  c.Set("SOL_SOCKET", Num(env, SOL_SOCKET));
  c.Set("IPPROTO_TCP", Num(env, IPPROTO_TCP));
  c.Set("SO_SNDBUF", Num(env, SO_SNDBUF));
  c.Set("SO_RCVBUF", Num(env, SO_RCVBUF));
  c.Set("SO_SNDBUFFORCE", Num(env, SO_SNDBUFFORCE));
  c.Set("SO_RCVBUFFORCE", Num(env, SO_RCVBUFFORCE));
  c.Set("SO_REUSEADDR", Num(env, SO_REUSEADDR));
  c.Set("SO_ZEROCOPY", Num(env, SO_ZEROCOPY));
  c.Set("TCP_NODELAY", Num(env, TCP_NODELAY));
  c.Set("TCP_CORK", Num(env, TCP_CORK));
  c.Set("SIOCOUTQ", Num(env, SIOCOUTQ));
  c.Set("SIOCOUTQNSD", Num(env, SIOCOUTQNSD));
  c.Set("SIOCINQ", Num(env, SIOCINQ));
  c.Set("POLLIN", Num(env, POLLIN));
  c.Set("POLLOUT", Num(env, POLLOUT));
  c.Set("POLLERR", Num(env, POLLERR));
  c.Set("POLLHUP", Num(env, POLLHUP));
  c.Set("MSG_ZEROCOPY", Num(env, MSG_ZEROCOPY));
  c.Set("MSG_DONTWAIT", Num(env, MSG_DONTWAIT));
  c.Set("MSG_NOSIGNAL", Num(env, MSG_NOSIGNAL));
  c.Set("SO_ERROR", Num(env, SO_ERROR));
  exports.Set("sockConstants", c);
}

}  // namespace zc
