{
  "targets": [
    {
      "target_name": "lxkit-probe",
      "type": "executable",
      "sources": ["src/probe.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
      "ldflags": ["-Wl,-z,relro,-z,now"]
    }
  ]
}
