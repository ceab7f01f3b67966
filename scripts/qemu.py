#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a kecpuhp test guest under QEMU (TCG) with hot-pluggable CPU slots.

The guest asks the host for actions by printing marker lines on its console:
  @@kecpuhp:hotadd CORE@@   device_add a CPU in core CORE (QMP)
  @@kecpuhp:guest-exit N@@  the guest script's exit status (printed by /init)
The host echoes the console, writes it to --log, and exits with the guest's
status, 124 on timeout, or 125 if the guest died without saying.

--interactive puts the guest console on this terminal instead. --qmp and
--control put the QMP socket and a second serial port (the guest's ttyS1,
used by scripts/vm.py) at fixed paths.
"""
import argparse
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

HOTADD = re.compile(r"@@kecpuhp:hotadd (\d+)@@")
EXIT = re.compile(r"@@kecpuhp:guest-exit (\d+)@@")


class Qmp:
    """A minimal QMP client: one connection, commands answered in order."""

    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile("rw")
        self.file.readline()                      # greeting
        self.command("qmp_capabilities")

    def command(self, name, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "event" not in reply:
                return reply


def qemu_command(args, qmp_path):
    append = "console=ttyS0 panic=-1 oops=panic " + (args.append or "")
    cmd = ["qemu-system-x86_64", "-machine", "pc,vmport=on",
           "-cpu", "qemu64,-hypervisor", "-smbios", "type=1,serial=VMware-42",
           "-smp", f"{args.smp},maxcpus={args.maxcpus}", "-m", str(args.mem),
           "-kernel", args.kernel, "-initrd", args.initrd, "-append", append,
           "-display", "none", "-no-reboot",
           "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    if args.control:
        cmd += ["-chardev", f"socket,id=ctl,path={args.control},server=on,wait=off",
                "-device", "isa-serial,chardev=ctl"]
    if args.interactive:
        cmd += ["-serial", "mon:stdio"]
    else:
        cmd += ["-serial", "stdio", "-monitor", "none"]
    return cmd


def hotadd(qmp, core):
    reply = qmp.command("device_add", driver="qemu64-x86_64-cpu", id=f"cpu{core}",
                        **{"socket-id": 0, "core-id": core, "thread-id": 0})
    return "error" not in reply, reply


def run(args):
    qmp_path = args.qmp or os.path.join(tempfile.mkdtemp(prefix="kecpuhp-qmp-"), "qmp.sock")
    if args.interactive:
        return subprocess.call(qemu_command(args, qmp_path))
    proc = subprocess.Popen(qemu_command(args, qmp_path), stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    log = open(args.log, "w") if args.log else None
    qmp, status, deadline, buf = None, None, time.time() + args.timeout, b""

    def emit(line):
        nonlocal qmp, status
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        if log:
            log.write(line + "\n")
            log.flush()
        m = HOTADD.search(line)
        if m:
            qmp = qmp or Qmp(qmp_path)
            ok, reply = hotadd(qmp, int(m.group(1)))
            emit(f"host: device_add core {m.group(1)}: {'ok' if ok else reply}")
        m = EXIT.search(line)
        if m:
            status = int(m.group(1))

    while True:
        left = deadline - time.time()
        if left <= 0:
            proc.kill()
            emit(f"host: timeout after {args.timeout}s")
            return 124
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            emit(line.decode("utf-8", "replace").rstrip("\r"))
    proc.wait()
    if status is None:
        emit("host: the guest ended without reporting its exit status")
        return 125
    return 0 if status == 0 else status


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--maxcpus", type=int, default=4)
    p.add_argument("--mem", type=int, default=1024)
    p.add_argument("--append", default="")
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--log")
    p.add_argument("--interactive", action="store_true")
    p.add_argument("--qmp", help="QMP socket path")
    p.add_argument("--control", help="socket for the guest's second serial port")
    sys.exit(run(p.parse_args()))


if __name__ == "__main__":
    main()
