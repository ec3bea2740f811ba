// @lxkit/native's addon: the few system calls Node does not offer and that
// need no new process (process-level work that enters namespaces is done by
// the helper executables, never in Node). Errors have Node's shape:
// code ('EWOULDBLOCK'...), errno (negative, as Node's), syscall.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/file.h>

namespace {

Napi::Error SystemError(Napi::Env env, int err, const char* syscall) {
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "EUNKNOWN";
  Napi::Error e = Napi::Error::New(env, code + ": " + strerror(err) + ", " + syscall);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// flock(fd, operation): the container lock. LOCK_NB failures throw EWOULDBLOCK.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "flock(fd: number, operation: number)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Number>().Int32Value();
  int r;
  do {
    r = flock(fd, op);
  } while (r < 0 && errno == EINTR);
  if (r < 0) throw SystemError(env, errno, "flock");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("LOCK_SH", LOCK_SH);
  c.Set("LOCK_EX", LOCK_EX);
  c.Set("LOCK_NB", LOCK_NB);
  c.Set("LOCK_UN", LOCK_UN);
  exports.Set("constants", c);
  return exports;
}

}  // namespace

NODE_API_MODULE(lxkit, Init)
