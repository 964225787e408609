// Shared helpers for the thin syscall wrappers: argument access and errno → JS Error.
#pragma once
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <string.h>

namespace zc {

// A JS Error carrying errno (number), code ("EBADF") and syscall name, not thrown: for results
// that return an error next to data already taken (see zerocopy.cc). `detail` goes after the code.
inline Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const std::string& detail = "") {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "UNKNOWN";
  std::string msg = std::string(syscall) + ": " + code + " (" + strerror(err) + ")" + detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, code));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Throws ErrnoError(...); returns undefined.
inline Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail = "") {
  ErrnoError(env, syscall, err, detail).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Argument i as an integer (fds, flags, lengths). Offsets above 2^53 are not needed here.
inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowType(info.Env(), "argument " + std::to_string(i) + " must be a number");
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  *out = static_cast<int64_t>(d);
  return true;
}

// Argument i as (pointer, length) into an ArrayBuffer or a TypedArray view, with a bounds check
// for [off, off+len) given as arguments i+1, i+2.
inline bool ArgBytes(const Napi::CallbackInfo& info, size_t i, uint8_t** ptr, size_t* len) {
  if (info.Length() <= i + 2) {
    ThrowType(info.Env(), "expected (buffer, offset, length) at argument " + std::to_string(i));
    return false;
  }
  uint8_t* base;
  size_t size;
  if (info[i].IsArrayBuffer()) {
    auto ab = info[i].As<Napi::ArrayBuffer>();
    base = static_cast<uint8_t*>(ab.Data());
    size = ab.ByteLength();
  } else if (info[i].IsTypedArray()) {
    auto ta = info[i].As<Napi::TypedArray>();
    base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    size = ta.ByteLength();
  } else {
    ThrowType(info.Env(), "argument " + std::to_string(i) + " must be an ArrayBuffer or TypedArray");
    return false;
  }
  int64_t off, n;
  if (!ArgInt(info, i + 1, &off) || !ArgInt(info, i + 2, &n)) return false;
  if (off < 0 || n < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(n) > size) {
    Napi::RangeError::New(info.Env(), "offset/length outside the buffer").ThrowAsJavaScriptException();
    return false;
  }
  *ptr = base + off;
  *len = static_cast<size_t>(n);
  return true;
}

inline Napi::Number Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

void InitBuffers(Napi::Env env, Napi::Object exports);
void InitSockets(Napi::Env env, Napi::Object exports);
void InitSend(Napi::Env env, Napi::Object exports);
void InitZerocopy(Napi::Env env, Napi::Object exports);
void InitUring(Napi::Env env, Napi::Object exports);
void InitFiles(Napi::Env env, Napi::Object exports);

}  // namespace zc
