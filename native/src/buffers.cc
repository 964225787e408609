// Page-aligned memory the kernel may keep referencing after a send returns:
// anonymous mappings (MADV_DONTFORK so a later fork cannot turn them copy-on-write and hide
// the corruption) and shared file mappings (mutating them writes the page cache).
#include "common.h"
#include <sys/mman.h>
#include <unistd.h>

namespace zc {

static void Unmap(Napi::Env, void* data, size_t* len) {
  munmap(data, *len);
  delete len;
}

static Napi::Value Expose(Napi::Env env, void* p, size_t len) {
  return Napi::ArrayBuffer::New(env, p, len, Unmap, new size_t(len));
}

// allocPages(size) → ArrayBuffer backed by a fresh anonymous mapping.
static Napi::Value AllocPages(const Napi::CallbackInfo& info) {
  int64_t size;
  if (!ArgInt(info, 0, &size)) return info.Env().Undefined();
  if (size <= 0) return ThrowErrno(info.Env(), "mmap", EINVAL);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return ThrowErrno(info.Env(), "mmap", errno);
  if (madvise(p, size, MADV_DONTFORK) != 0) {
    int err = errno;
    munmap(p, size);
    return ThrowErrno(info.Env(), "madvise", err);
  }
  return Expose(info.Env(), p, size);
}

// mapFile(fd, size, writable) → ArrayBuffer over a MAP_SHARED mapping of the file.
static Napi::Value MapFile(const Napi::CallbackInfo& info) {
  int64_t fd, size;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &size)) return info.Env().Undefined();
  bool writable = info.Length() > 2 && info[2].ToBoolean();
  if (size <= 0) return ThrowErrno(info.Env(), "mmap", EINVAL);
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p = mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return ThrowErrno(info.Env(), "mmap", errno);
  madvise(p, size, MADV_DONTFORK);
  return Expose(info.Env(), p, size);
}

// pageSize() → the kernel's page size.
static Napi::Value PageSize(const Napi::CallbackInfo& info) {
  return Num(info.Env(), sysconf(_SC_PAGESIZE));
}

// pageOffset(buf) → where the view's first byte lies within its page (0: page aligned), so
// tests can check the alignment that zero-copy paths (vmsplice gift, whole-page references) need.
static Napi::Value PageOffset(const Napi::CallbackInfo& info) {
  uint8_t* base;
  if (info.Length() > 0 && info[0].IsArrayBuffer()) {
    base = static_cast<uint8_t*>(info[0].As<Napi::ArrayBuffer>().Data());
  } else if (info.Length() > 0 && info[0].IsTypedArray()) {
    auto ta = info[0].As<Napi::TypedArray>();
    base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  } else {
    return ThrowType(info.Env(), "argument 0 must be an ArrayBuffer or TypedArray");
  }
  return Num(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(base) % sysconf(_SC_PAGESIZE)));
}

void InitBuffers(Napi::Env env, Napi::Object exports) {
  exports.Set("pageOffset", Napi::Function::New(env, PageOffset));
  exports.Set("allocPages", Napi::Function::New(env, AllocPages));
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("pageSize", Napi::Function::New(env, PageSize));
}

}  // namespace zc
