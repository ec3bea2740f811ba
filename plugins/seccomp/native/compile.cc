// lxkit's seccomp compiler: a filter description (rules per architecture,
// already read from an LXC policy by plugins/seccomp/src) to a classic BPF
// program, with libseccomp. A build target of its own, so that a
// distribution without libseccomp drops the seccomp plugin and nothing else.
//
// compile({ defaultAction, native, arches: [{ arch, rules: [{ name | nr,
//   action, args: [{ index, op, a, b }] }] }] }) -> { program: Buffer,
//   skipped: ["arch:name", ...] }
// `arch` is libseccomp's name ("x86_64", "x86", "x32", "aarch64"...); each
// gets a filter of its own, merged into one program. Names unknown on an
// architecture are skipped (and reported), as LXC does.
#include <napi.h>
#include <seccomp.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

struct Ctx {
  scmp_filter_ctx ctx = nullptr;
  ~Ctx() {
    if (ctx) seccomp_release(ctx);
  }
};

Napi::Error Fail(Napi::Env env, const std::string& what, int rc) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(rc < 0 ? -rc : rc));
  e.Set("code", Napi::String::New(env, "LXKIT_SECCOMP_FAILED"));
  e.Set("errno", Napi::Number::New(env, rc < 0 ? rc : -rc));
  return e;
}

uint64_t U64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = false;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
}

Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object spec = info[0].As<Napi::Object>();
  uint32_t def = spec.Get("defaultAction").As<Napi::Number>().Uint32Value();
  std::string native = spec.Get("native").As<Napi::String>().Utf8Value();
  Napi::Array arches = spec.Get("arches").As<Napi::Array>();
  Napi::Array skipped = Napi::Array::New(env);
  uint32_t nskipped = 0;

  Ctx main;
  main.ctx = seccomp_init(def);
  if (!main.ctx) throw Fail(env, "seccomp_init", -EINVAL);
  // The filter decides by itself; lxkit sets no_new_privs only when the config asks.
  seccomp_attr_set(main.ctx, SCMP_FLTATR_CTL_NNP, 0);
  uint32_t native_token = seccomp_arch_resolve_name(native.c_str());
  if (native_token == 0) throw Fail(env, "unknown architecture " + native, -EINVAL);

  for (uint32_t i = 0; i < arches.Length(); i++) {
    Napi::Object a = arches.Get(i).As<Napi::Object>();
    std::string arch = a.Get("arch").As<Napi::String>().Utf8Value();
    uint32_t token = seccomp_arch_resolve_name(arch.c_str());
    if (token == 0) throw Fail(env, "unknown architecture " + arch, -EINVAL);
    Ctx own;
    scmp_filter_ctx ctx = main.ctx;
    if (token != native_token) {
      own.ctx = seccomp_init(def);
      if (!own.ctx) throw Fail(env, "seccomp_init", -EINVAL);
      seccomp_attr_set(own.ctx, SCMP_FLTATR_CTL_NNP, 0);
      int rc = seccomp_arch_add(own.ctx, token);
      if (rc < 0 && rc != -EEXIST) throw Fail(env, "seccomp_arch_add " + arch, rc);
      rc = seccomp_arch_remove(own.ctx, SCMP_ARCH_NATIVE);
      if (rc < 0) throw Fail(env, "seccomp_arch_remove native", rc);
      ctx = own.ctx;
    }
    Napi::Array rules = a.Get("rules").As<Napi::Array>();
    for (uint32_t j = 0; j < rules.Length(); j++) {
      Napi::Object r = rules.Get(j).As<Napi::Object>();
      uint32_t action = r.Get("action").As<Napi::Number>().Uint32Value();
      int nr;
      std::string label;
      if (r.Has("name")) {
        label = r.Get("name").As<Napi::String>().Utf8Value();
        // Known on this architecture? Then by its native (or pseudo) number, which libseccomp translates.
        if (seccomp_syscall_resolve_name_arch(token, label.c_str()) == __NR_SCMP_ERROR) {
          skipped.Set(nskipped++, Napi::String::New(env, arch + ":" + label));
          continue;
        }
        nr = seccomp_syscall_resolve_name(label.c_str());
      } else {
        nr = r.Get("nr").As<Napi::Number>().Int32Value();
        label = std::to_string(nr);
      }
      Napi::Array args = r.Get("args").As<Napi::Array>();
      std::vector<scmp_arg_cmp> cmps;
      for (uint32_t k = 0; k < args.Length(); k++) {
        Napi::Object c = args.Get(k).As<Napi::Object>();
        scmp_arg_cmp cmp{};
        cmp.arg = c.Get("index").As<Napi::Number>().Uint32Value();
        cmp.op = static_cast<scmp_compare>(c.Get("op").As<Napi::Number>().Uint32Value());
        cmp.datum_a = U64(c.Get("a"));
        cmp.datum_b = U64(c.Get("b"));
        cmps.push_back(cmp);
      }
      int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()), cmps.empty() ? nullptr : cmps.data());
      if (rc == -EACCES || rc == -EEXIST) continue;  // the default action already, or said before: nothing to add
      if (rc < 0) throw Fail(env, "seccomp_rule_add " + arch + ":" + label, rc);
    }
    if (own.ctx) {
      int rc = seccomp_merge(main.ctx, own.ctx);
      if (rc < 0) throw Fail(env, "seccomp_merge " + arch, rc);
      own.ctx = nullptr;  // merged: released with main
    }
  }

  int fd = memfd_create("lxkit-seccomp", MFD_CLOEXEC);
  if (fd < 0) throw Fail(env, "memfd_create", -errno);
  int rc = seccomp_export_bpf(main.ctx, fd);
  if (rc < 0) {
    close(fd);
    throw Fail(env, "seccomp_export_bpf", rc);
  }
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<char> data(static_cast<size_t>(size));
  ssize_t n = size > 0 ? pread(fd, data.data(), data.size(), 0) : 0;
  close(fd);
  if (n != size) throw Fail(env, "reading the exported filter", -EIO);
  Napi::Object out = Napi::Object::New(env);
  out.Set("program", Napi::Buffer<char>::Copy(env, data.data(), data.size()));
  out.Set("skipped", skipped);
  return out;
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  const scmp_version* v = seccomp_version();
  return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("compile", Napi::Function::New(env, Compile));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace

NODE_API_MODULE(lxkit_seccomp, Init)
