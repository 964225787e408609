// Files: open/pwrite/pread/ftruncate/fsync, fcntl (leases, lease signal, pipe size), fallocate
// (punch hole: mutations, and the consumed part of a capture file), FICLONE (reflink) and flock
// (host-wide bookkeeping locks).
#include "common.h"
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace zc {

// open(path, flags, mode) → fd (O_CLOEXEC always added)
static Napi::Value Open(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) return ThrowType(info.Env(), "path must be a string");
  int64_t flags, mode = 0644;
  if (!ArgInt(info, 1, &flags)) return info.Env().Undefined();
  if (info.Length() > 2 && !ArgInt(info, 2, &mode)) return info.Env().Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd;
  do fd = open(path.c_str(), static_cast<int>(flags) | O_CLOEXEC, static_cast<mode_t>(mode));
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return ThrowErrno(info.Env(), "open", errno);
  return Num(info.Env(), fd);
}

// pwrite(fd, buf, off, len, position) / pread(...) → bytes
static Napi::Value PRW(const Napi::CallbackInfo& info, bool write) {
  int64_t fd, pos;
  uint8_t* p;
  size_t n;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &p, &n) || !ArgInt(info, 4, &pos))
    return info.Env().Undefined();
  ssize_t r;
  do r = write ? pwrite(fd, p, n, pos) : pread(fd, p, n, pos); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), write ? "pwrite" : "pread", errno);
  return Num(info.Env(), r);
}
static Napi::Value Pwrite(const Napi::CallbackInfo& info) { return PRW(info, true); }
static Napi::Value Pread(const Napi::CallbackInfo& info) { return PRW(info, false); }

static Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  int64_t fd, len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &len)) return info.Env().Undefined();
  int r;
  do r = ftruncate(fd, len); while (r != 0 && errno == EINTR);
  if (r != 0) return ThrowErrno(info.Env(), "ftruncate", errno);
  return info.Env().Undefined();
}

static Napi::Value Fsync(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  if (fsync(fd) != 0) return ThrowErrno(info.Env(), "fsync", errno);
  return info.Env().Undefined();
}

// fallocate(fd, mode, offset, len): FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE punches a hole (a
// mutation; the consumed part of a capture file), the file keeping its size.
static Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  int64_t fd, mode, off, len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &mode) || !ArgInt(info, 2, &off) || !ArgInt(info, 3, &len))
    return info.Env().Undefined();
  int r;
  do r = fallocate(static_cast<int>(fd), static_cast<int>(mode), off, len); while (r != 0 && errno == EINTR);
  if (r != 0) return ThrowErrno(info.Env(), "fallocate", errno);
  return info.Env().Undefined();
}

// ficlone(destFd, srcFd): ioctl(dest, FICLONE, src) — dest shares src's extents (reflink)
static Napi::Value Ficlone(const Napi::CallbackInfo& info) {
  int64_t dest, src;
  if (!ArgInt(info, 0, &dest) || !ArgInt(info, 1, &src)) return info.Env().Undefined();
  int r;
  do r = ioctl(static_cast<int>(dest), FICLONE, static_cast<int>(src)); while (r != 0 && errno == EINTR);
  if (r != 0) return ThrowErrno(info.Env(), "ioctl(FICLONE)", errno);
  return info.Env().Undefined();
}

// fcntlInt(fd, cmd, arg) → result: F_SETLEASE/F_GETLEASE/F_SETSIG/F_SETPIPE_SZ/F_GETPIPE_SZ/...
static Napi::Value FcntlInt(const Napi::CallbackInfo& info) {
  int64_t fd, cmd, arg = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &cmd)) return info.Env().Undefined();
  if (info.Length() > 2 && !ArgInt(info, 2, &arg)) return info.Env().Undefined();
  int r;
  do r = fcntl(fd, static_cast<int>(cmd), static_cast<long>(arg)); while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(info.Env(), "fcntl", errno);
  return Num(info.Env(), r);
}

// flock(fd, op) → true, or false when LOCK_NB was given and the lock is held elsewhere (EWOULDBLOCK).
// The kernel drops the lock when the last fd of the open file closes, so a crashed holder never
// leaves it taken.
static Napi::Value Flock(const Napi::CallbackInfo& info) {
  int64_t fd, op;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &op)) return info.Env().Undefined();
  int r;
  do r = flock(static_cast<int>(fd), static_cast<int>(op)); while (r != 0 && errno == EINTR);
  if (r != 0 && errno == EWOULDBLOCK && (op & LOCK_NB)) return Napi::Boolean::New(info.Env(), false);
  if (r != 0) return ThrowErrno(info.Env(), "flock", errno);
  return Napi::Boolean::New(info.Env(), true);
}

void InitFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("pwrite", Napi::Function::New(env, Pwrite));
  exports.Set("pread", Napi::Function::New(env, Pread));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("fsync", Napi::Function::New(env, Fsync));
  exports.Set("fcntlInt", Napi::Function::New(env, FcntlInt));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("ficlone", Napi::Function::New(env, Ficlone));
  Napi::Object c = Napi::Object::New(env);
  c.Set("O_RDONLY", Num(env, O_RDONLY));
  c.Set("O_WRONLY", Num(env, O_WRONLY));
  c.Set("O_RDWR", Num(env, O_RDWR));
  c.Set("O_CREAT", Num(env, O_CREAT));
  c.Set("O_TRUNC", Num(env, O_TRUNC));
  c.Set("O_EXCL", Num(env, O_EXCL));
  c.Set("O_DIRECT", Num(env, O_DIRECT));
  c.Set("FALLOC_FL_KEEP_SIZE", Num(env, FALLOC_FL_KEEP_SIZE));
  c.Set("FALLOC_FL_PUNCH_HOLE", Num(env, FALLOC_FL_PUNCH_HOLE));
  c.Set("F_SETLEASE", Num(env, F_SETLEASE));
  c.Set("F_GETLEASE", Num(env, F_GETLEASE));
  c.Set("F_SETSIG", Num(env, F_SETSIG));
  c.Set("F_GETSIG", Num(env, F_GETSIG));
  c.Set("F_RDLCK", Num(env, F_RDLCK));
  c.Set("F_WRLCK", Num(env, F_WRLCK));
  c.Set("F_UNLCK", Num(env, F_UNLCK));
  c.Set("F_SETPIPE_SZ", Num(env, F_SETPIPE_SZ));
  c.Set("F_GETPIPE_SZ", Num(env, F_GETPIPE_SZ));
  c.Set("F_GETFL", Num(env, F_GETFL));
  c.Set("F_SETFL", Num(env, F_SETFL));
  c.Set("LOCK_SH", Num(env, LOCK_SH));
  c.Set("LOCK_EX", Num(env, LOCK_EX));
  c.Set("LOCK_NB", Num(env, LOCK_NB));
  c.Set("LOCK_UN", Num(env, LOCK_UN));
  exports.Set("fileConstants", c);
}

}  // namespace zc
