// Send paths: write/send/read, sendfile, pipes, splice, vmsplice, tee. Each returns the
// syscall's count as is: short counts are the caller's business (the TS side loops).
#include "common.h"
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace zc {

#define RETRY_EINTR(expr) ({ ssize_t _r; do _r = (expr); while (_r < 0 && errno == EINTR); _r; })

// write(fd, buf, off, len) → bytes written
static Napi::Value Write(const Napi::CallbackInfo& info) {
  int64_t fd;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &p, &n)) return info.Env().Undefined();
  ssize_t r = RETRY_EINTR(write(fd, p, n));
  if (r < 0) return ThrowErrno(info.Env(), "write", errno);
  return Num(info.Env(), r);
}

// read(fd, buf, off, len) → bytes read (0 at EOF)
static Napi::Value Read(const Napi::CallbackInfo& info) {
  int64_t fd;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &p, &n)) return info.Env().Undefined();
  ssize_t r = RETRY_EINTR(read(fd, p, n));
  if (r < 0) return ThrowErrno(info.Env(), "read", errno);
  return Num(info.Env(), r);
}

// send(fd, buf, off, len, flags) → bytes queued (MSG_NOSIGNAL always added)
static Napi::Value Send(const Napi::CallbackInfo& info) {
  int64_t fd, flags;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &p, &n) || !ArgInt(info, 4, &flags))
    return info.Env().Undefined();
  ssize_t r = RETRY_EINTR(send(fd, p, n, static_cast<int>(flags) | MSG_NOSIGNAL));
  if (r < 0) return ThrowErrno(info.Env(), "send", errno);
  return Num(info.Env(), r);
}

// sendfile(outFd, inFd, offset, count) → {bytes, offset}: the kernel's updated file offset.
static Napi::Value Sendfile(const Napi::CallbackInfo& info) {
  int64_t out, in, off, count;
  if (!ArgInt(info, 0, &out) || !ArgInt(info, 1, &in) || !ArgInt(info, 2, &off) || !ArgInt(info, 3, &count))
    return info.Env().Undefined();
  off_t o = off;
  ssize_t r = RETRY_EINTR(sendfile(out, in, &o, count));
  if (r < 0) return ThrowErrno(info.Env(), "sendfile", errno);
  Napi::Object res = Napi::Object::New(info.Env());
  res.Set("bytes", Num(info.Env(), r));
  res.Set("offset", Num(info.Env(), static_cast<double>(o)));
  return res;
}

// pipe2(flags) → [readFd, writeFd]
static Napi::Value Pipe2(const Napi::CallbackInfo& info) {
  int64_t flags;
  if (!ArgInt(info, 0, &flags)) return info.Env().Undefined();
  int fds[2];
  if (pipe2(fds, static_cast<int>(flags) | O_CLOEXEC) != 0) return ThrowErrno(info.Env(), "pipe2", errno);
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Num(info.Env(), fds[0]));
  a.Set(1u, Num(info.Env(), fds[1]));
  return a;
}

// splice(fdIn, offIn|null, fdOut, offOut|null, len, flags) → bytes moved
static Napi::Value Splice(const Napi::CallbackInfo& info) {
  int64_t in, out, len, flags, offIn = 0, offOut = 0;
  if (!ArgInt(info, 0, &in) || !ArgInt(info, 2, &out) || !ArgInt(info, 4, &len) || !ArgInt(info, 5, &flags))
    return info.Env().Undefined();
  bool hasIn = info[1].IsNumber(), hasOut = info[3].IsNumber();
  if (hasIn && !ArgInt(info, 1, &offIn)) return info.Env().Undefined();
  if (hasOut && !ArgInt(info, 3, &offOut)) return info.Env().Undefined();
  loff_t oi = offIn, oo = offOut;
  ssize_t r = RETRY_EINTR(splice(in, hasIn ? &oi : nullptr, out, hasOut ? &oo : nullptr, len, flags));
  if (r < 0) return ThrowErrno(info.Env(), "splice", errno);
  return Num(info.Env(), r);
}

// vmsplice(pipeWriteFd, buf, off, len, flags) → bytes mapped into the pipe
static Napi::Value Vmsplice(const Napi::CallbackInfo& info) {
  int64_t fd, flags;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &p, &n) || !ArgInt(info, 4, &flags))
    return info.Env().Undefined();
  struct iovec iov = {p, n};
  ssize_t r = RETRY_EINTR(vmsplice(fd, &iov, 1, flags));
  if (r < 0) return ThrowErrno(info.Env(), "vmsplice", errno);
  return Num(info.Env(), r);
}

// tee(fdIn, fdOut, len, flags) → bytes duplicated
static Napi::Value Tee(const Napi::CallbackInfo& info) {
  int64_t in, out, len, flags;
  if (!ArgInt(info, 0, &in) || !ArgInt(info, 1, &out) || !ArgInt(info, 2, &len) || !ArgInt(info, 3, &flags))
    return info.Env().Undefined();
  ssize_t r = RETRY_EINTR(tee(in, out, len, flags));
  if (r < 0) return ThrowErrno(info.Env(), "tee", errno);
  return Num(info.Env(), r);
}

void InitSend(Napi::Env env, Napi::Object exports) {
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("send", Napi::Function::New(env, Send));
  exports.Set("sendfile", Napi::Function::New(env, Sendfile));
  exports.Set("pipe2", Napi::Function::New(env, Pipe2));
  exports.Set("splice", Napi::Function::New(env, Splice));
  exports.Set("vmsplice", Napi::Function::New(env, Vmsplice));
  exports.Set("tee", Napi::Function::New(env, Tee));
  Napi::Object c = Napi::Object::New(env);
  c.Set("SPLICE_F_MOVE", Num(env, SPLICE_F_MOVE));
  c.Set("SPLICE_F_NONBLOCK", Num(env, SPLICE_F_NONBLOCK));
  c.Set("SPLICE_F_MORE", Num(env, SPLICE_F_MORE));
  c.Set("SPLICE_F_GIFT", Num(env, SPLICE_F_GIFT));
  c.Set("O_NONBLOCK", Num(env, O_NONBLOCK));
  exports.Set("spliceConstants", c);
}

}  // namespace zc
