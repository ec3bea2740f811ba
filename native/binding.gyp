{
  "target_defaults": {
    "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
    "ldflags": ["-Wl,-z,relro,-z,now"]
  },
  "targets": [
    {
      "target_name": "lxkit-probe",
      "type": "executable",
      "sources": ["src/probe.c"]
    },
    {
      "target_name": "lxkit-monitor",
      "type": "executable",
      # Static: it is exec'd once per container, and skipping the dynamic
      # loader saves a few hundred microseconds of every start.
      "ldflags": ["-static"],
      "sources": [
        "src/common/proto.c",
        "src/common/timeline.c",
        "src/monitor/main.c",
        "src/monitor/control.c",
        "src/monitor/console.c",
        "src/monitor/ring.c",
        "src/monitor/command.c",
        "src/monitor/watchers.c",
        "src/monitor/cgroup.c",
        "src/monitor/notify.c",
        "src/monitor/restore.c",
        "src/monitor/child.c",
        "src/monitor/netns.c",
        "src/common/netlink.c",
        "src/common/confine.c",
        "src/monitor/resolve.c",
        "src/monitor/fdpass.c"
      ]
    },
    {
      "target_name": "lxkit-attach",
      "type": "executable",
      "ldflags": ["-static"],
      "sources": ["src/common/proto.c", "src/common/cmdclient.c", "src/common/helper.c", "src/common/ptyproxy.c", "src/monitor/fdpass.c", "src/common/confine.c", "src/attach/relay.c", "src/attach/attach.c"]
    },
    {
      "target_name": "lxkit-console",
      "type": "executable",
      "ldflags": ["-static"],
      "sources": ["src/common/proto.c", "src/common/cmdclient.c", "src/common/helper.c", "src/common/ptyproxy.c", "src/console/console.c"]
    },
    {
      # Setuid root where installed (scripts/build.mjs, as root): a veth for an unprivileged user's container.
      # Dynamic: the user database may come from NSS.
      "target_name": "lxkit-user-nic",
      "type": "executable",
      "sources": ["src/common/netlink.c", "src/usernic/access.c", "src/usernic/quota.c", "src/usernic/ovs.c", "src/usernic/main.c"]
    },
    {
      # The `lxkit` command's C front: replays launch plans, else runs the Node CLI (docs/launch-plans.md).
      "target_name": "lxkit-front",
      "type": "executable",
      "ldflags": ["-static"],
      "sources": ["src/common/proto.c", "src/common/cmdclient.c", "src/front/main.c", "src/front/replay.c", "src/front/stop.c"]
    },
    {
      "target_name": "lxkit",
      "sources": ["src/addon/addon.cc", "src/common/timeline.c", "src/monitor/resolve.c", "src/common/netlink.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-std=gnu11"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
