#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Drive the experiment guest started by scripts/vm.sh, from the host.

  vm.py hotadd N      device_add a CPU in core N (QMP); it arrives offline
  vm.py online N      echo 1 > /sys/devices/system/cpu/cpuN/online
  vm.py offline N     echo 0 > ...
  vm.py debugfs [F]   kecpuhp's debugfs files (registrations, processors, ...)
  vm.py trace         the kecpuhp tracepoint buffer
  vm.py sh CMD...     any command in the guest
  vm.py status        CPUs online/present/possible and the hot-plug slots
  vm.py wait          wait until the guest answers
  vm.py stop          power the guest off
"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qmp  # noqa: E402

VM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "vm")
DONE = re.compile(r"@@kecpuhp:done (\d+)@@")


def guest(cmd, timeout=120):
    """Run CMD in the guest over ttyS1; print its output; return its status."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(VM, "ctl.sock"))
    s.settimeout(timeout)
    s.sendall((cmd + "\n").encode())
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("the guest closed the control channel")
        buf += chunk
        text = buf.decode("utf-8", "replace")
        m = DONE.search(text)
        if m:
            sys.stdout.write(text[:m.start()].replace("\r", ""))
            return int(m.group(1))


def qmp():
    return Qmp(os.path.join(VM, "qmp.sock"))


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    verb, rest = argv[0], argv[1:]
    if verb == "hotadd":
        core = int(rest[0])
        reply = qmp().command("device_add", driver="qemu64-x86_64-cpu", id=f"cpu{core}",
                              **{"socket-id": 0, "core-id": core, "thread-id": 0})
        print("ok" if "error" not in reply else reply["error"]["desc"])
        return 0 if "error" not in reply else 1
    if verb in ("online", "offline"):
        value = 1 if verb == "online" else 0
        return guest(f"echo {value} > /sys/devices/system/cpu/cpu{int(rest[0])}/online")
    if verb == "debugfs":
        files = rest or ["processors", "registrations"]
        return guest("; ".join(f"echo '## {f}'; cat /sys/kernel/debug/kecpuhp/{f}"
                               for f in files))
    if verb == "trace":
        return guest("grep -v '^#' /sys/kernel/tracing/trace")
    if verb == "sh":
        return guest(" ".join(rest))
    if verb == "status":
        slots = qmp().command("query-hotpluggable-cpus")["return"]
        free = sorted(c["props"]["core-id"] for c in slots if "qom-path" not in c)
        print(f"free hot-plug slots (core-id): {free}")
        return guest("cd /sys/devices/system/cpu; for f in online present possible; do "
                     "echo \"$f: $(cat $f)\"; done")
    if verb == "wait":
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if guest("true", timeout=5) == 0:
                    return 0
            except OSError:
                time.sleep(1)
        return 1
    if verb == "stop":
        try:
            qmp().command("quit")
        except OSError:
            pass
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
