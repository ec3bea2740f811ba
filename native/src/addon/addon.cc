// @lxkit/native's addon: the few system calls Node does not offer and that
// need no new process (process-level work that enters namespaces is done by
// the helper executables, never in Node). Errors have Node's shape:
// code ('EWOULDBLOCK'...), errno (negative, as Node's), syscall.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <memory>
#include <string>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cstddef>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <unordered_map>
#include <vector>
#include "../common/kernel.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
extern "C" {
#include "../monitor/resolve.h"
#include "../common/netlink.h"
}
#include <net/if.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include "../common/spawn.h"
#include "../common/timeline.h"


extern char** environ;

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

// With the path the call was about, as Node words it: "ENOENT: ..., sendto '/dev/log'".
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const char* path) {
  Napi::Error e = SystemError(env, err, syscall);
  e.Set("message", Napi::String::New(env, e.Message() + " '" + path + "'"));
  e.Set("path", Napi::String::New(env, path));
  return e;
}

// The ids of the device programs attached to the cgroup (fd `cg`) itself.
static std::vector<uint32_t> DeviceProgramIds(int cg) {
  uint32_t ids[64];
  union bpf_attr query;
  memset(&query, 0, sizeof(query));
  query.query.target_fd = (uint32_t)cg;
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = (uint64_t)(uintptr_t)ids;
  query.query.prog_cnt = 64;
  if (syscall(SYS_bpf, BPF_PROG_QUERY, &query, sizeof(query)) < 0) return {};
  return std::vector<uint32_t>(ids, ids + query.query.prog_cnt);
}

// attachDeviceProgram(cgroupDir, insns, replace): loads a BPF_PROG_TYPE_CGROUP_DEVICE
// program (insns: struct bpf_insn[], built by the cgroup plugin) and attaches
// it to the cgroup v2 directory. The cgroup holds the program from then on;
// it goes with the cgroup. Returns the verifier's log on failure in the message.
// With `replace`, the device programs attached before are detached once the
// new one is: every attached program must allow an access, so a rule added
// to a running container's set needs the old program gone.
Napi::Value AttachDeviceProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  static char log[16384];
  log[0] = 0;
  union bpf_attr load;
  memset(&load, 0, sizeof(load));
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns.Data();
  load.insn_cnt = (uint32_t)(insns.Length() / sizeof(struct bpf_insn));
  load.license = (uint64_t)(uintptr_t)"GPL";
  load.log_buf = (uint64_t)(uintptr_t)log;
  load.log_size = sizeof(log);
  load.log_level = 1;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  if (prog < 0 && errno == ENOSPC) {
    // The log did not fit: load again without it, for the errno alone.
    load.log_buf = 0;
    load.log_size = 0;
    load.log_level = 0;
    prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  }
  if (prog < 0) {
    int err = errno;
    Napi::Error e = SystemError(env, err, "bpf");
    e.Set("detail", Napi::String::New(env, log));
    throw e;
  }
  int cg = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    int err = errno;
    close(prog);
    Napi::Error e = SystemError(env, err, "open");
    e.Set("path", Napi::String::New(env, dir));
    throw e;
  }
  bool replace = info.Length() > 2 && info[2].ToBoolean().Value();
  std::vector<uint32_t> before = replace ? DeviceProgramIds(cg) : std::vector<uint32_t>();
  union bpf_attr attach;
  memset(&attach, 0, sizeof(attach));
  attach.target_fd = (uint32_t)cg;
  attach.attach_bpf_fd = (uint32_t)prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  int ret = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach));
  int err = errno;
  close(prog);
  if (ret < 0) {
    close(cg);
    Napi::Error e = SystemError(env, err, "bpf");
    e.Set("path", Napi::String::New(env, dir));
    throw e;
  }
  for (uint32_t id : before) {
    union bpf_attr get;
    memset(&get, 0, sizeof(get));
    get.prog_id = id;
    int old = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &get, sizeof(get));
    if (old < 0) continue;  // gone meanwhile
    union bpf_attr detach;
    memset(&detach, 0, sizeof(detach));
    detach.target_fd = (uint32_t)cg;
    detach.attach_bpf_fd = (uint32_t)old;
    detach.attach_type = BPF_CGROUP_DEVICE;
    int r = (int)syscall(SYS_bpf, BPF_PROG_DETACH, &detach, sizeof(detach));
    int derr = errno;
    close(old);
    if (r < 0 && derr != ENOENT) {
      close(cg);
      Napi::Error e = SystemError(env, derr, "bpf");
      e.Set("path", Napi::String::New(env, dir));
      throw e;
    }
  }
  close(cg);
  return env.Undefined();
}

// setXattr(path, name, value) / getXattr(path, name): extended attributes
// (a running container's device rules live in one on its cgroup, and go
// with it). getXattr returns undefined when there is none.
Napi::Value SetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (setxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0) throw SystemError(env, errno, "setxattr", path.c_str());
  return env.Undefined();
}

Napi::Value GetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  ssize_t n = getxattr(path.c_str(), name.c_str(), nullptr, 0);
  if (n < 0 && errno == ENODATA) return env.Undefined();
  if (n < 0) throw SystemError(env, errno, "getxattr", path.c_str());
  std::vector<uint8_t> buf((size_t)n);
  n = getxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
  if (n < 0) throw SystemError(env, errno, "getxattr", path.c_str());
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), (size_t)n);
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

// sendDatagram(path, data): one datagram to the unix socket at `path` (a
// syslog daemon's /dev/log), from a socket made for it: Node has no unix
// datagram sockets. Throws a Node-style error (ENOENT: nobody listens there).
Napi::Value SendDatagram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    throw Napi::TypeError::New(env, "sendDatagram(path: string, data: Buffer)");
  }
  std::string path = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> data = info[1].As<Napi::Buffer<uint8_t>>();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw SystemError(env, ENAMETOOLONG, "sendto", path.c_str());
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SystemError(env, errno, "socket");
  ssize_t n;
  do {
    n = sendto(fd, data.Data(), data.Length(), MSG_NOSIGNAL, (struct sockaddr*)&addr, sizeof(addr));
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) throw SystemError(env, err, "sendto", path.c_str());
  return env.Undefined();
}


// Closes a file descriptor on every path out of a scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

// A refused netlink request: Node's shape, the device as `path`, the kernel's extended ack as `detail`.
Napi::Error NetlinkError(Napi::Env env, int err, const std::string& ifname, const char* why) {
  Napi::Error e = SystemError(env, err, "netlink", ifname.c_str());
  if (why && why[0]) {
    e.Set("detail", Napi::String::New(env, why));
    e.Set("message", Napi::String::New(env, e.Message() + " (" + why + ")"));
  }
  return e;
}

// The fields of a JavaScript device description (NetLinkSpec in index.ts) as struct nl_link.
struct LinkSpec {
  std::string name;
  std::vector<uint8_t> hwaddr;
  nl_link link{};
  explicit LinkSpec(Napi::Env env, Napi::Object o) {
    link.netns_fd = -1;
    if (o.Has("name") && o.Get("name").IsString()) {
      name = o.Get("name").As<Napi::String>().Utf8Value();
      link.name = name.c_str();
    }
    if (o.Has("hwaddr") && o.Get("hwaddr").IsBuffer()) {
      auto b = o.Get("hwaddr").As<Napi::Buffer<uint8_t>>();
      if (b.Length() != 6) throw Napi::TypeError::New(env, "hwaddr: 6 bytes");
      hwaddr.assign(b.Data(), b.Data() + 6);
      link.hwaddr = hwaddr.data();
    }
    if (o.Has("mtu") && o.Get("mtu").IsNumber()) link.mtu = o.Get("mtu").As<Napi::Number>().Uint32Value();
    if (o.Has("rxQueues") && o.Get("rxQueues").IsNumber()) link.rx_queues = o.Get("rxQueues").As<Napi::Number>().Uint32Value();
    if (o.Has("txQueues") && o.Get("txQueues").IsNumber()) link.tx_queues = o.Get("txQueues").As<Napi::Number>().Uint32Value();
    if (o.Has("up") && o.Get("up").ToBoolean()) link.up = 1;
    if (o.Has("master") && o.Get("master").IsString()) {
      std::string m = o.Get("master").As<Napi::String>().Utf8Value();
      link.master = (int)if_nametoindex(m.c_str());
      if (link.master == 0) throw SystemError(env, errno, "if_nametoindex", m.c_str());
    }
  }
};

// A request that makes a device in the network namespace at `path`: that
// namespace's fd (for IFLA_NET_NS_FD) and the netlink socket to ask with.
struct InNamespace {
  Fd ns;
  Fd nl{-1};
  char why[NL_WHY] = "";
  InNamespace(Napi::Env env, const std::string& path) : ns(open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (ns.fd < 0) throw SystemError(env, errno, "open", path.c_str());
    nl.fd = nl_open();
    if (nl.fd < 0) throw SystemError(env, errno, "socket");
  }
};

// A request about the host device `name`: its ifindex and a netlink socket to ask with.
struct OnHostDevice {
  int ifindex;
  Fd nl{-1};
  char why[NL_WHY] = "";
  OnHostDevice(Napi::Env env, const std::string& name) : ifindex((int)if_nametoindex(name.c_str())) {
    if (ifindex == 0) throw SystemError(env, errno, "if_nametoindex", name.c_str());
    nl.fd = nl_open();
    if (nl.fd < 0) throw SystemError(env, errno, "socket");
  }
};

// netVethCreate(host, peer, netns): a veth pair, `host` in lxkit's network
// namespace and `peer` created directly in the namespace at the path `netns`
// (a container's /proc/<monitor>/fd/<n>), so that it never shows on the host.
Napi::Value NetVethCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsObject() || !info[2].IsString()) {
    throw Napi::TypeError::New(env, "netVethCreate(host: NetLinkSpec, peer: NetLinkSpec, netns: string)");
  }
  LinkSpec host(env, info[0].As<Napi::Object>());
  LinkSpec peer(env, info[1].As<Napi::Object>());
  InNamespace to(env, info[2].As<Napi::String>());
  peer.link.netns_fd = to.ns.fd;
  if (nl_veth_create(to.nl.fd, &host.link, &peer.link, to.why) < 0) throw NetlinkError(env, errno, host.name, to.why);
  return env.Undefined();
}

// netLinkCreate(kind, parent, dev, netns, data): a device of `kind` on the
// host device `parent`, made directly in the network namespace at the path
// `netns` as `dev` says; `data`: [{ type, size: 2|4, value }] of its kind
// (IFLA_MACVLAN_MODE, IFLA_IPVLAN_MODE/FLAGS, IFLA_VLAN_ID).
Napi::Value NetLinkCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsString() || !info[2].IsObject() || !info[3].IsString() || !info[4].IsArray()) {
    throw Napi::TypeError::New(env, "netLinkCreate(kind: string, parent: string, dev: NetLinkSpec, netns: string, data: NetLinkData[])");
  }
  std::string kind = info[0].As<Napi::String>();
  std::string parent = info[1].As<Napi::String>();
  LinkSpec dev(env, info[2].As<Napi::Object>());
  Napi::Array list = info[4].As<Napi::Array>();
  std::vector<nl_data> data;
  for (uint32_t k = 0; k < list.Length(); k++) {
    Napi::Object o = list.Get(k).As<Napi::Object>();
    nl_data d{};
    d.type = (uint16_t)o.Get("type").As<Napi::Number>().Uint32Value();
    d.size = (uint8_t)o.Get("size").As<Napi::Number>().Uint32Value();
    d.value = o.Get("value").As<Napi::Number>().Uint32Value();
    data.push_back(d);
  }
  int parentIndex = (int)if_nametoindex(parent.c_str());
  if (parentIndex == 0) throw SystemError(env, errno, "if_nametoindex", parent.c_str());
  InNamespace to(env, info[3].As<Napi::String>());
  dev.link.netns_fd = to.ns.fd;
  if (nl_link_create(to.nl.fd, kind.c_str(), parentIndex, &dev.link, data.data(), (int)data.size(), to.why) < 0) {
    throw NetlinkError(env, errno, dev.name, to.why);
  }
  return env.Undefined();
}

// netLinkMove(name, netns, change): moves the host device `name` into the
// network namespace at the path `netns`, renamed and changed as `change`
// says (a phys network's device going into its container).
Napi::Value NetLinkMove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsObject()) {
    throw Napi::TypeError::New(env, "netLinkMove(name: string, netns: string, change: NetLinkSpec)");
  }
  std::string name = info[0].As<Napi::String>();
  LinkSpec change(env, info[2].As<Napi::Object>());
  int ifindex = (int)if_nametoindex(name.c_str());
  if (ifindex == 0) throw SystemError(env, errno, "if_nametoindex", name.c_str());
  InNamespace to(env, info[1].As<Napi::String>());
  change.link.netns_fd = to.ns.fd;
  if (nl_link_set(to.nl.fd, ifindex, &change.link, to.why) < 0) throw NetlinkError(env, errno, name, to.why);
  return env.Undefined();
}

// netRouteAdd(ifname, family, destination, prefix): a route on the host to
// destination/prefix through the device (scope link), as `ip route add
// DST/PREFIX dev IFNAME`. netNeighProxyAdd(ifname, family, address): a proxy
// neighbour entry, as `ip neigh add proxy ADDRESS dev IFNAME`.
// An address argument: `family` (4 or 6) and a Buffer of its 4 or 16 bytes.
struct FamilyAddress {
  int family;
  Napi::Buffer<uint8_t> bytes;
  FamilyAddress(Napi::Env env, Napi::Value family_, Napi::Value bytes_, const char* what)
      : family(family_.As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET), bytes(bytes_.As<Napi::Buffer<uint8_t>>()) {
    if (bytes.Length() != (family == AF_INET ? 4u : 16u)) throw Napi::TypeError::New(env, std::string(what) + ": 4 or 16 bytes");
  }
};

Napi::Value NetRouteAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBuffer() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "netRouteAdd(ifname: string, family: 4 | 6, destination: Buffer, prefix: number)");
  }
  std::string name = info[0].As<Napi::String>();
  FamilyAddress dst(env, info[1], info[2], "destination");
  OnHostDevice dev(env, name);
  if (nl_route_add(dev.nl.fd, dev.ifindex, dst.family, dst.bytes.Data(), info[3].As<Napi::Number>().Int32Value(), nullptr, dev.why) < 0) {
    throw NetlinkError(env, errno, name, dev.why);
  }
  return env.Undefined();
}

Napi::Value NetNeighProxyAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBuffer()) {
    throw Napi::TypeError::New(env, "netNeighProxyAdd(ifname: string, family: 4 | 6, address: Buffer)");
  }
  std::string name = info[0].As<Napi::String>();
  FamilyAddress addr(env, info[1], info[2], "address");
  OnHostDevice dev(env, name);
  if (nl_neigh_proxy(dev.nl.fd, 1, dev.ifindex, addr.family, addr.bytes.Data(), dev.why) < 0) throw NetlinkError(env, errno, name, dev.why);
  return env.Undefined();
}

// netBridgeVlan(port, add, vid, flags): a VLAN of the bridge port `port`
// added (add true) or removed, as `bridge vlan add|del vid VID dev PORT
// [pvid] [untagged]` (flags: BRIDGE_VLAN_INFO_PVID 2, _UNTAGGED 4).
Napi::Value NetBridgeVlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsBoolean() || !info[2].IsNumber() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "netBridgeVlan(port: string, add: boolean, vid: number, flags: number)");
  }
  std::string name = info[0].As<Napi::String>();
  OnHostDevice dev(env, name);
  if (nl_bridge_vlan(dev.nl.fd, dev.ifindex, info[1].As<Napi::Boolean>().Value() ? 1 : 0, (uint16_t)info[2].As<Napi::Number>().Uint32Value(),
                     (uint16_t)info[3].As<Napi::Number>().Uint32Value(), dev.why) < 0) {
    throw NetlinkError(env, errno, name, dev.why);
  }
  return env.Undefined();
}

// interfaceAddresses(name): the addresses of a host interface, up or not
// (os.networkInterfaces() leaves out interfaces without carrier, such as a
// bridge with no port yet). [{ family: 4|6, address }], in the kernel's order.
Napi::Value InterfaceAddresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "interfaceAddresses(name: string)");
  std::string name = info[0].As<Napi::String>();
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) < 0) throw SystemError(env, errno, "getifaddrs");
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (struct ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || name != a->ifa_name) continue;
    int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN];
    const void* raw = family == AF_INET ? (const void*)&((struct sockaddr_in*)a->ifa_addr)->sin_addr
                                        : (const void*)&((struct sockaddr_in6*)a->ifa_addr)->sin6_addr;
    if (!inet_ntop(family, raw, text, sizeof(text))) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", Napi::Number::New(env, family == AF_INET ? 4 : 6));
    o.Set("address", Napi::String::New(env, text));
    out.Set(n++, o);
  }
  freeifaddrs(list);
  return out;
}

// The container's root as its init sees it (/proc/<pid>/root: its mount
// namespace's mounts included, without entering it), for resolve.c's
// PF_IN_ROOT paths while `this` lives: nothing resolves above it.
struct BeneathRoot {
  int fd;
  explicit BeneathRoot(const std::string& root) : fd(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) { root_fd = fd; }
  ~BeneathRoot() {
    resolve_forget();
    root_fd = -1;
    if (fd >= 0) close(fd);
  }
};

// "dev/dri/card0" -> parent "dev/dri", name "card0"; false for a path with no name or a "." or ".." in it.
static bool SplitBeneath(const std::string& path, std::string& parent, std::string& name) {
  size_t start = path.find_first_not_of('/');
  if (start == std::string::npos) return false;
  std::string rel = path.substr(start);
  for (size_t at = 0; at <= rel.size();) {
    size_t end = rel.find('/', at);
    if (end == std::string::npos) end = rel.size();
    std::string part = rel.substr(at, end - at);
    if (part == "." || part == "..") return false;
    at = end + 1;
  }
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  size_t slash = rel.rfind('/');
  parent = slash == std::string::npos ? "." : rel.substr(0, slash);
  name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return !name.empty();
}

// makeNodeBeneath(root, path, mode, major, minor): lxc-device add: the device
// node `path` (with its parents, 0755) beneath the container's root `root`,
// replacing what is there. Every component is resolved beneath the root: a
// symlink that leaves it fails (EXDEV) instead of reaching the host.
Napi::Value MakeNodeBeneath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsNumber()) {
    throw Napi::TypeError::New(env, "makeNodeBeneath(root: string, path: string, mode: number, major: number, minor: number)");
  }
  std::string root = info[0].As<Napi::String>(), path = info[1].As<Napi::String>(), parent, name;
  mode_t mode = (mode_t)info[2].As<Napi::Number>().Uint32Value();
  dev_t dev = makedev(info[3].As<Napi::Number>().Uint32Value(), info[4].As<Napi::Number>().Uint32Value());
  if (!SplitBeneath(path, parent, name)) throw SystemError(env, EINVAL, "mknod", path.c_str());
  BeneathRoot r(root);
  if (r.fd < 0) throw SystemError(env, errno, "open", root.c_str());
  int dir = mkdir_open(parent.c_str(), PF_IN_ROOT, 0755);
  if (dir < 0) throw SystemError(env, errno, "mkdir", parent.c_str());
  Fd guard{dir};
  if (unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT) throw SystemError(env, errno, "unlink", path.c_str());
  if (mknodat(dir, name.c_str(), mode, dev) < 0) throw SystemError(env, errno, "mknod", path.c_str());
  return env.Undefined();
}

// removeNodeBeneath(root, path): lxc-device del: removes the device node
// `path` beneath the container's root; false when there is none. Anything
// else at that path (a file, a directory) is left alone: ENOTBLK.
Napi::Value RemoveNodeBeneath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(env, "removeNodeBeneath(root: string, path: string)");
  std::string root = info[0].As<Napi::String>(), path = info[1].As<Napi::String>(), parent, name;
  if (!SplitBeneath(path, parent, name)) throw SystemError(env, EINVAL, "unlink", path.c_str());
  BeneathRoot r(root);
  if (r.fd < 0) throw SystemError(env, errno, "open", root.c_str());
  int dir = open_path(parent.c_str(), PF_IN_ROOT, O_PATH | O_DIRECTORY);
  if (dir < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throw SystemError(env, errno, "open", parent.c_str());
  }
  Fd guard{dir};
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throw SystemError(env, errno, "stat", path.c_str());
  }
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) throw SystemError(env, ENOTBLK, "unlink", path.c_str());
  if (unlinkat(dir, name.c_str(), 0) < 0) throw SystemError(env, errno, "unlink", path.c_str());
  return Napi::Boolean::New(env, true);
}


// What posix_spawn of a helper needs, made on the calling thread: argv and
// the environment copied, the child's fds lifted above every target number
// (so that no dup2 of the file actions overwrites a source still to be used,
// and the caller may close its own fds at once). The lifted copies are closed
// with the plan.
struct SpawnPlan {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> envs;
  std::vector<int> sources;
  SpawnPlan() = default;
  SpawnPlan(const SpawnPlan&) = delete;
  SpawnPlan& operator=(const SpawnPlan&) = delete;
  ~SpawnPlan() {
    for (int fd : sources) close(fd);
  }

  // Spawns; returns 0 with *pid and *pidfd set, or an errno with the call that *failed.
  int Run(pid_t* pid, int* pidfd, const char** failed) {
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    for (size_t i = 0; i < sources.size(); i++) posix_spawn_file_actions_adddup2(&actions, sources[i], (int)i);
    spawnattr_fresh(&attr);
    int err = posix_spawn(pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err != 0) {
      *failed = "posix_spawn";
      return err;
    }
    *pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
    if (*pidfd < 0) {
      int e = errno;
      kill(*pid, SIGKILL);
      waitpid(*pid, nullptr, 0);
      *failed = "pidfd_open";
      return e;
    }
    fcntl(*pidfd, F_SETFD, FD_CLOEXEC);
    return 0;
  }
};

// Reads (path, argv, fds) and makes the control socketpair: the plan gets
// the helper's end as its fd 3; returns lxkit's end.
int PlanSpawn(const Napi::CallbackInfo& info, SpawnPlan& plan) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray()) {
    throw Napi::TypeError::New(env, "spawnHelper(path: string, argv: string[], fds: number[])");
  }
  plan.path = info[0].As<Napi::String>();
  Napi::Array jsArgv = info[1].As<Napi::Array>();
  Napi::Array jsFds = info[2].As<Napi::Array>();
  for (uint32_t i = 0; i < jsArgv.Length(); i++) plan.args.push_back(jsArgv.Get(i).As<Napi::String>());
  for (char** e = environ; *e; e++) plan.envs.emplace_back(*e);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) throw SystemError(env, errno, "socketpair");
  Fd ours{pair[0]}, theirs{pair[1]};
  const int high = 64;
  auto lift = [&](int fd) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, high);
    if (d < 0) throw SystemError(env, errno, "fcntl");
    plan.sources.push_back(d);
  };
  // Node keeps its own stdin/stdout/stderr close-on-exec: they are passed
  // on explicitly, as libuv does for its children.
  for (int fd = 0; fd < 3; fd++) lift(fd);
  lift(theirs.fd);
  for (uint32_t i = 0; i < jsFds.Length(); i++) lift(jsFds.Get(i).As<Napi::Number>().Int32Value());
  return ours.release();
}

Napi::Object Spawned(Napi::Env env, pid_t pid, int pidfd, int control) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("pid", pid);
  r.Set("pidfd", pidfd);
  r.Set("control", control);
  return r;
}

Napi::Error SpawnError(Napi::Env env, int err, const char* syscall, const std::string& path) {
  Napi::Error e = SystemError(env, err, syscall);
  e.Set("path", Napi::String::New(env, path));
  return e;
}

// spawnHelper(path, argv, fds): starts a helper executable with
// posix_spawn (a vfork-style clone: ~10x cheaper than the fork libuv does
// for child_process.spawn in a large Node process) and returns
// { pid, pidfd, control }. The child gets stdin/stdout/stderr as lxkit has
// them (0-2), a fresh socketpair end as fd 3 (`control` is the other end),
// and fds[i] as fd 4+i; every other descriptor is close-on-exec in Node.
// Signal dispositions are reset and the mask emptied, as a freshly exec'd
// program expects. The pid is reaped only through watchExit.
Napi::Value SpawnHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SpawnPlan plan;
  Fd control{PlanSpawn(info, plan)};
  pid_t pid = -1;
  int pidfd = -1;
  const char* syscall = "";
  int err = plan.Run(&pid, &pidfd, &syscall);
  if (err != 0) throw SpawnError(env, err, syscall, plan.path);
  return Spawned(env, pid, pidfd, control.release());
}

// The posix_spawn of spawnHelperAsync, on a thread of libuv's pool: posix_spawn
// holds its caller until the child has exec'd (~0.3-1.5 ms for the monitor).
class SpawnWorker : public Napi::AsyncWorker {
 public:
  SpawnWorker(Napi::Function callback, std::unique_ptr<SpawnPlan> plan) : Napi::AsyncWorker(callback, "lxkit:spawnHelper"), plan_(std::move(plan)) {}

  void Execute() override {
    // When a thread of the pool took the spawn: the wait before it is a CPU's or a free thread's (docs/timeline.md).
    timeline_mark("spawning");
    err_ = plan_->Run(&pid_, &pidfd_, &syscall_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    std::string path = plan_->path;
    // The helper's end goes only now: a helper that never ran ends `control`
    // after this callback has told why.
    plan_.reset();
    if (err_ != 0) Callback().Call({SpawnError(env, err_, syscall_, path).Value()});
    else Callback().Call({env.Null(), Napi::Number::New(env, pid_), Napi::Number::New(env, pidfd_)});
  }

 private:
  std::unique_ptr<SpawnPlan> plan_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int err_ = 0;
  const char* syscall_ = "";
};

// spawnHelperAsync(path, argv, fds, callback): spawnHelper with the
// posix_spawn on a pool thread. Returns `control` at once (what is written
// to it waits in the socket until the helper reads); callback(null, pid,
// pidfd) once the helper runs, or callback(error).
Napi::Value SpawnHelperAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "spawnHelperAsync(path: string, argv: string[], fds: number[], callback: function)");
  }
  auto plan = std::make_unique<SpawnPlan>();
  int control = PlanSpawn(info, *plan);
  // Opened here, once, on Node's thread (close-on-exec: no helper inherits it); marked on the pool's.
  timeline_open("node");
  (new SpawnWorker(info[3].As<Napi::Function>(), std::move(plan)))->Queue();
  return Napi::Number::New(env, control);
}

// watchExit(pidfd, callback): callback(code, signal) once the process has
// exited and been reaped; the pidfd is closed then. Keeps the event loop
// alive until then, as a ChildProcess does.
struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context;
};

// Watches by pidfd, for unrefExit.
std::unordered_map<int, ExitWatch*> watches;

void OnPidfd(uv_poll_t* handle, int, int) {
  auto* w = static_cast<ExitWatch*>(handle->data);
  siginfo_t si{};
  int r;
  do {
    r = waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0 && si.si_pid == 0) return;  // readable but not yet reapable: wait for the next wake-up
  uv_poll_stop(handle);
  watches.erase(w->pidfd);
  int code = -1, signal = 0;
  if (r == 0) {
    if (si.si_code == CLD_EXITED) code = si.si_status;
    else signal = si.si_status;
  }
  close(w->pidfd);
  {
    Napi::Env env(w->env);
    Napi::HandleScope scope(env);
    // The JavaScript side hands its work to the event loop and does not
    // throw; an exception here is reported as an uncaught one, not a crash.
    try {
      w->callback.MakeCallback(env.Global(), {Napi::Number::New(env, code), Napi::Number::New(env, signal)}, *w->context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(w->env, e.Value());
    }
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) {
    auto* w = static_cast<ExitWatch*>(h->data);
    delete w->context;
    delete w;
  });
}

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "watchExit(pidfd: number, callback: (code, signal) => void)");
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  auto* w = new ExitWatch{};
  w->pidfd = info[0].As<Napi::Number>().Int32Value();
  w->env = env;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  w->context = new Napi::AsyncContext(env, "lxkit:helper-exit");
  w->poll.data = w;
  int err = uv_poll_init(loop, &w->poll, w->pidfd);
  if (err == 0) err = uv_poll_start(&w->poll, UV_READABLE, OnPidfd);
  if (err != 0) {
    delete w->context;
    delete w;
    throw SystemError(env, -err, "uv_poll_start");
  }
  watches[w->pidfd] = w;
  return env.Undefined();
}

// unrefExit(pidfd): the watch no longer keeps the event loop alive (a
// daemon's monitor, which outlives the lxkit that started it). It still
// reaps the process if it exits while this one runs.
Napi::Value UnrefExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "unrefExit(pidfd: number)");
  auto it = watches.find(info[0].As<Napi::Number>().Int32Value());
  if (it != watches.end()) uv_unref(reinterpret_cast<uv_handle_t*>(&it->second->poll));
  return env.Undefined();
}

// pidfdSendSignal(pidfd, signal): kill(2) without the pid-reuse race.
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "pidfdSendSignal(pidfd: number, signal: number)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) throw SystemError(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

// connectAbstract(name): a connected unix stream socket to the abstract
// address `name` (without the leading NUL), for a net.Socket. Node's own
// connect cuts the name at the NUL on Node 20.
Napi::Value ConnectAbstract(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "connectAbstract(name: string)");
  std::string name = info[0].As<Napi::String>();
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (name.empty() || name.size() + 1 > sizeof(addr.sun_path)) throw SystemError(env, ENAMETOOLONG, "connect");
  memcpy(addr.sun_path + 1, name.data(), name.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SystemError(env, errno, "socket");
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
  int r;
  do {
    r = connect(fd, reinterpret_cast<struct sockaddr*>(&addr), len);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    close(fd);
    throw SystemError(env, err, "connect");
  }
  return Napi::Number::New(env, fd);
}

// listenAbstract(name): a unix stream socket bound to the abstract address
// `name` and listening, for net.Server.listen({ fd }).
Napi::Value ListenAbstract(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "listenAbstract(name: string)");
  std::string name = info[0].As<Napi::String>();
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (name.empty() || name.size() + 1 > sizeof(addr.sun_path)) throw SystemError(env, ENAMETOOLONG, "bind");
  memcpy(addr.sun_path + 1, name.data(), name.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw SystemError(env, errno, "socket");
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), len) < 0 || listen(fd, 128) < 0) {
    int err = errno;
    close(fd);
    throw SystemError(env, err, "bind");
  }
  return Napi::Number::New(env, fd);
}

// Channels: lxkit's side of a stream socket to a helper or a monitor,
// without net.Socket. Loading node:net and its streams costs ~5 ms of every
// CLI command that asks a container something; frames here are small and
// few. channelOpen(fd, onData) calls onData(chunk) for what arrives and
// onData(null, errno) once at the end (0: closed by the peer), after which
// the fd is closed. channelWrite sends a whole buffer (the fd is made
// blocking; a frame is far smaller than a socket buffer).
struct Channel {
  uv_poll_t poll;
  int fd;
  bool closing = false;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context;
};

std::unordered_map<int, Channel*> channels;

void ChannelFree(Channel* c) {
  if (c->closing) return;
  c->closing = true;
  channels.erase(c->fd);
  uv_poll_stop(&c->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->poll), [](uv_handle_t* h) {
    auto* c = static_cast<Channel*>(h->data);
    close(c->fd);
    delete c->context;
    delete c;
  });
}

void ChannelCall(Channel* c, Napi::Value chunk, int err) {
  Napi::Env env(c->env);
  try {
    c->callback.MakeCallback(env.Global(), {chunk, Napi::Number::New(env, err)}, *c->context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(c->env, e.Value());
  }
}

void OnChannel(uv_poll_t* handle, int status, int) {
  auto* c = static_cast<Channel*>(handle->data);
  Napi::Env env(c->env);
  Napi::HandleScope scope(env);
  // libuv reports POLLERR as UV_EBADF without reading. A peer that exits with
  // our writes unread resets the socket (ECONNRESET, POLLERR) while what it
  // sent before is still queued: that is read first, then the end reported.
  bool failed = status < 0;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      ChannelCall(c, Napi::Buffer<char>::Copy(env, buf, (size_t)n), 0);
      if (c->closing) return;  // closed by the callback
      if (!failed && (size_t)n < sizeof buf) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !failed) return;
    int err = n == 0 ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ? -status : errno;
    ChannelFree(c);
    ChannelCall(c, env.Null(), err);
    return;
  }
}

Napi::Value ChannelOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "channelOpen(fd: number, onData: (chunk: Buffer | null, errno: number) => void)");
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (channels.count(fd)) throw SystemError(env, EBUSY, "channelOpen");
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) throw SystemError(env, errno, "fcntl");
  auto* c = new Channel{};
  c->fd = fd;
  c->env = env;
  c->callback = Napi::Persistent(info[1].As<Napi::Function>());
  c->context = new Napi::AsyncContext(env, "lxkit:channel");
  c->poll.data = c;
  int err = uv_poll_init(loop, &c->poll, fd);
  if (err == 0) err = uv_poll_start(&c->poll, UV_READABLE | UV_DISCONNECT, OnChannel);
  if (err != 0) {
    delete c->context;
    delete c;
    throw SystemError(env, -err, "uv_poll_start");
  }
  channels[fd] = c;
  return env.Undefined();
}

Napi::Value ChannelWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "channelWrite(fd: number, data: Buffer)");
  auto it = channels.find(info[0].As<Napi::Number>().Int32Value());
  if (it == channels.end()) throw SystemError(env, EBADF, "send");
  auto data = info[1].As<Napi::Buffer<char>>();
  size_t done = 0;
  while (done < data.Length()) {
    ssize_t n = send(it->second->fd, data.Data() + done, data.Length() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(env, errno, "send");
    done += (size_t)n;
  }
  return env.Undefined();
}

// channelClose(fd): no more callbacks; the fd is closed.
Napi::Value ChannelClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "channelClose(fd: number)");
  auto it = channels.find(info[0].As<Napi::Number>().Int32Value());
  if (it != channels.end()) ChannelFree(it->second);
  return env.Undefined();
}

// channelRef(fd, ref): whether the channel keeps the event loop alive (it does at first).
Napi::Value ChannelRef(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) throw Napi::TypeError::New(env, "channelRef(fd: number, ref: boolean)");
  auto it = channels.find(info[0].As<Napi::Number>().Int32Value());
  if (it != channels.end()) {
    auto* h = reinterpret_cast<uv_handle_t*>(&it->second->poll);
    if (info[1].As<Napi::Boolean>().Value()) uv_ref(h);
    else uv_unref(h);
  }
  return env.Undefined();
}

// isatty(fd): node:tty answers this too, but loads node:net and its streams (~5 ms).
Napi::Value IsATty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "isatty(fd: number)");
  return Napi::Boolean::New(env, isatty(info[0].As<Napi::Number>().Int32Value()) == 1);
}

// quiesce(): no callback into JavaScript any more; called at the process's
// 'exit'. Node runs the event loop once more while it frees the environment,
// and a monitor exiting or writing then (an unref'd daemon's, or the end of a
// conversation) would call into an isolate that is going away. The watched
// processes are not waited for: a daemon's monitor outlives this process.
Napi::Value Quiesce(const Napi::CallbackInfo& info) {
  for (auto& [fd, w] : watches) {
    uv_poll_stop(&w->poll);
    close(w->pidfd);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* h) {
      auto* w = static_cast<ExitWatch*>(h->data);
      delete w->context;
      delete w;
    });
  }
  watches.clear();
  std::vector<Channel*> open;
  for (auto& [fd, c] : channels) open.push_back(c);
  for (Channel* c : open) ChannelFree(c);
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("isatty", Napi::Function::New(env, IsATty, "isatty"));
  exports.Set("channelOpen", Napi::Function::New(env, ChannelOpen, "channelOpen"));
  exports.Set("channelWrite", Napi::Function::New(env, ChannelWrite, "channelWrite"));
  exports.Set("channelClose", Napi::Function::New(env, ChannelClose, "channelClose"));
  exports.Set("channelRef", Napi::Function::New(env, ChannelRef, "channelRef"));
  exports.Set("listenAbstract", Napi::Function::New(env, ListenAbstract, "listenAbstract"));
  exports.Set("connectAbstract", Napi::Function::New(env, ConnectAbstract, "connectAbstract"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("setXattr", Napi::Function::New(env, SetXattr, "setXattr"));
  exports.Set("getXattr", Napi::Function::New(env, GetXattr, "getXattr"));
  exports.Set("sendDatagram", Napi::Function::New(env, SendDatagram, "sendDatagram"));
  exports.Set("netVethCreate", Napi::Function::New(env, NetVethCreate, "netVethCreate"));
  exports.Set("netLinkCreate", Napi::Function::New(env, NetLinkCreate, "netLinkCreate"));
  exports.Set("netLinkMove", Napi::Function::New(env, NetLinkMove, "netLinkMove"));
  exports.Set("netRouteAdd", Napi::Function::New(env, NetRouteAdd, "netRouteAdd"));
  exports.Set("netNeighProxyAdd", Napi::Function::New(env, NetNeighProxyAdd, "netNeighProxyAdd"));
  exports.Set("netBridgeVlan", Napi::Function::New(env, NetBridgeVlan, "netBridgeVlan"));
  exports.Set("interfaceAddresses", Napi::Function::New(env, InterfaceAddresses, "interfaceAddresses"));
  exports.Set("makeNodeBeneath", Napi::Function::New(env, MakeNodeBeneath, "makeNodeBeneath"));
  exports.Set("removeNodeBeneath", Napi::Function::New(env, RemoveNodeBeneath, "removeNodeBeneath"));
  exports.Set("attachDeviceProgram", Napi::Function::New(env, AttachDeviceProgram, "attachDeviceProgram"));
  exports.Set("spawnHelper", Napi::Function::New(env, SpawnHelper, "spawnHelper"));
  exports.Set("spawnHelperAsync", Napi::Function::New(env, SpawnHelperAsync, "spawnHelperAsync"));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
  exports.Set("unrefExit", Napi::Function::New(env, UnrefExit, "unrefExit"));
  exports.Set("quiesce", Napi::Function::New(env, Quiesce, "quiesce"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
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
