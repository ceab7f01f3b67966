#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a kecpuhp test guest under QEMU with hot-pluggable CPU slots.

--accel auto (the default, or $KECPUHP_ACCEL) uses KVM if a probe boot with
-accel kvm reaches user space within $KECPUHP_ACCEL_TIMEOUT seconds (25),
and TCG otherwise, saying why on stderr. The probe's verdict is cached per
kernel and QEMU binary in $KECPUHP_CACHE/accel/, so only the first boot of
a kernel pays for it. The console log gets a line "host: accel NAME (why)".

The guest asks the host for actions by printing marker lines on its console:
  @@kecpuhp:hotadd CORE@@     device_add a CPU in socket 0, core CORE (QMP);
                              the guest then polls /sys/devices/system/cpu/cpuCORE
  @@kecpuhp:hotadd-query@@    log query-hotpluggable-cpus (debug aid)
  @@kecpuhp:guest-exit N@@    the guest script's exit status (printed by /init)
The host echoes the console to stdout, writes it to --log, adds its own
lines prefixed "host: ", and exits with the guest's status N (0 only if N is
0), 124 on timeout (QEMU is killed), or 125 if QEMU ended without the
guest-exit marker (kernel panic with panic=-1, crash, QEMU error).

--numa gives the guest two NUMA nodes, one socket (half of --maxcpus) and
half of --mem each; sockets stay whole so that x86 topology_sane() finds
every LLC on one node. Linux numbers the CPUs socket-major.

--interactive puts the guest console (and the QEMU monitor, Ctrl-A c) on
this terminal instead; QMP stays available for scripts/qmp.py. --qmp and
--control put the QMP socket and a second serial port (the guest's ttyS1,
used by scripts/vm.py) at fixed paths.
"""
import argparse
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import Qmp, QmpError, device_add_cpu  # noqa: E402,F401  (vm.py: qemu.Qmp)

HOTADD = re.compile(r"@@kecpuhp:hotadd (\d+)@@")
QUERY = re.compile(r"@@kecpuhp:hotadd-query@@")
EXIT = re.compile(r"@@kecpuhp:guest-exit (\d+)@@")
# After the guest-exit marker, /init runs poweroff -f: allow this long.
POWEROFF_GRACE = 60
# The probe boot runs busybox as init, which prints this line and exits.
PROBE_LINE = "kecpuhp-accel userspace-ok"


def numa_topology(args):
    """The -smp topology suffix: two sockets for --numa, else QEMU's default."""
    if not args.numa:
        return ""
    return f",sockets=2,cores={args.maxcpus // 2},threads=1"


def numa_options(args):
    """Two nodes, each with a memory backend and one whole socket."""
    if not args.numa:
        return []
    half = args.mem // 2
    opts = []
    for node in (0, 1):
        opts += ["-object", f"memory-backend-ram,id=m{node},size={half}M",
                 "-numa", f"node,nodeid={node},memdev=m{node}"]
    for node in (0, 1):
        opts += ["-numa", f"cpu,node-id={node},socket-id={node}"]
    return opts


def qemu_command(args, qmp_path, accel="tcg"):
    append = "console=ttyS0 panic=-1 oops=panic " + (args.append or "")
    cmd = ["qemu-system-x86_64", "-accel", accel, "-machine", "pc,vmport=on",
           "-cpu", "qemu64,-hypervisor", "-smbios", "type=1,serial=VMware-42",
           "-smp", f"{args.smp},maxcpus={args.maxcpus}{numa_topology(args)}",
           "-m", str(args.mem),
           "-kernel", args.kernel, "-initrd", args.initrd, "-append", append.strip(),
           "-display", "none", "-no-reboot",
           "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    cmd += numa_options(args)
    if args.control:
        cmd += ["-chardev", f"socket,id=ctl,path={args.control},server=on,wait=off",
                "-device", "isa-serial,chardev=ctl"]
    if args.interactive:
        # What -nographic does: serial console and monitor multiplexed on stdio.
        cmd += ["-serial", "mon:stdio"]
    else:
        # The console is a pipe to this script: no monitor in the byte stream.
        cmd += ["-serial", "stdio", "-monitor", "none"]
    return cmd


class Runner:
    def __init__(self, args, qmp_path):
        self.args = args
        self.qmp_path = qmp_path
        self.qmp = None
        self.status = None
        self.log = open(args.log, "w", encoding="utf-8") if args.log else None
        self.start = time.monotonic()
        self.exit_seen = None

    def emit(self, line, echo=True):
        if echo:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if self.log:
            self.log.write(line + "\n")
            self.log.flush()

    def host(self, text, echo=True):
        self.emit(f"host: {text}", echo)

    def connect(self):
        if self.qmp is None:
            self.qmp = Qmp(self.qmp_path)
        return self.qmp

    def qmp_call(self, what, fn):
        """Run fn(qmp); a QMP failure is logged, never fatal (the guest's own
        wait then fails and says so)."""
        try:
            return fn(self.connect())
        except QmpError as e:
            self.host(f"{what}: QMP failed: {e}")
            if self.qmp:
                self.qmp.close()
            self.qmp = None
            return None

    def line(self, line):
        self.emit(line)
        m = HOTADD.search(line)
        if m:
            core = int(m.group(1))
            r = self.qmp_call(f"device_add core {core}", lambda q: device_add_cpu(q, core))
            if r is not None:
                ok, reply = r
                self.host(f"device_add core {core}: "
                          f"{'ok' if ok else reply.get('error', reply)}")
        if QUERY.search(line):
            r = self.qmp_call("query-hotpluggable-cpus",
                              lambda q: q.command("query-hotpluggable-cpus"))
            if r is not None:
                for slot in r.get("return", [r]):
                    self.host(f"hotpluggable-cpu {json.dumps(slot, sort_keys=True)}")
        m = EXIT.search(line)
        if m and self.status is None:
            self.status = int(m.group(1))

    def elapsed(self):
        return time.monotonic() - self.start

    def run(self, proc):
        deadline = self.start + self.args.timeout
        buf = b""
        fd = proc.stdout.fileno()
        while True:
            if self.status is not None:
                deadline = min(deadline, self.exit_seen + POWEROFF_GRACE)
            left = deadline - time.monotonic()
            if left <= 0:
                if self.status is not None:
                    self.host(f"QEMU still running {POWEROFF_GRACE}s after the guest "
                              "exited: killed")
                    break
                self.host(f"timeout after {self.args.timeout}s: QEMU killed")
                return 124
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                had_status = self.status is not None
                self.line(raw.decode("utf-8", "replace").rstrip("\r"))
                if not had_status and self.status is not None:
                    self.exit_seen = time.monotonic()
        if buf:
            self.line(buf.decode("utf-8", "replace").rstrip("\r"))
        if self.status is None:
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
            self.host(f"QEMU ended (status {code}) after {self.elapsed():.1f}s without "
                      "the guest-exit marker (panic, crash or QEMU error)")
            return 125
        self.host(f"guest exit status {self.status} after {self.elapsed():.1f}s", echo=False)
        return self.status if 0 <= self.status <= 255 else 1


def accel_cache_file(kernel):
    """The cache entry of the KVM probe for this kernel and QEMU binary."""
    cache = os.environ.get("KECPUHP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kecpuhp")
    qemu = shutil.which("qemu-system-x86_64") or "qemu-system-x86_64"
    ids = []
    for f in (kernel, qemu):
        try:
            st = os.stat(f)
            ids.append(f"{os.path.realpath(f)}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            ids.append(f)
    key = hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16]
    return os.path.join(cache, "accel", key)


def probe_kvm(args, timeout):
    """Boot args.kernel under KVM until user space: (True, why) or (False, why)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is missing or not accessible"
    probe = argparse.Namespace(**vars(args))
    probe.smp = probe.maxcpus = 1
    probe.mem = 512
    probe.control = None
    probe.interactive = False
    probe.append = f"rdinit=/bin/busybox -- echo {PROBE_LINE}"
    tmpdir = tempfile.mkdtemp(prefix="kecpuhp-probe-")
    cmd = qemu_command(probe, os.path.join(tmpdir, "qmp.sock"), "kvm")
    last = ""
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT)
    except OSError as e:
        shutil.rmtree(tmpdir, ignore_errors=True)
        return False, f"cannot start QEMU: {e}"
    try:
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return False, f"QEMU -accel kvm ended before user space: {last or 'no output'}"
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            for raw in lines:
                line = raw.decode("utf-8", "replace").strip()
                if line == PROBE_LINE:
                    took = timeout - (deadline - time.monotonic())
                    return True, f"the probe boot reached user space in {took:.1f}s"
                if "KVM internal error" in line or "KVM_" in line:
                    # QEMU stops the guest and dumps its registers: no use waiting.
                    return False, f"QEMU -accel kvm: {line[:160]}"
                if line and not line.startswith("qemu-system"):
                    last = line[:160]
        return False, (f"no user space within {timeout}s under -accel kvm "
                       f"({'last console line: ' + last if last else 'no console output'})")
    finally:
        terminate(proc)
        shutil.rmtree(tmpdir, ignore_errors=True)


def choose_accel(args):
    """The accelerator to boot with and why, probing KVM once per kernel."""
    if args.accel != "auto":
        return args.accel, "asked for"
    entry = accel_cache_file(args.kernel)
    try:
        with open(entry, encoding="utf-8") as f:
            accel, _, why = f.read().strip().partition(" ")
        if accel in ("kvm", "tcg"):
            return accel, f"{why} (cached probe, {entry})"
    except OSError:
        pass
    timeout = int(os.environ.get("KECPUHP_ACCEL_TIMEOUT", "25"))
    ok, why = probe_kvm(args, timeout)
    accel = "kvm" if ok else "tcg"
    try:
        os.makedirs(os.path.dirname(entry), exist_ok=True)
        with open(entry + ".tmp", "w", encoding="utf-8") as f:
            f.write(f"{accel} {why}\n")
        os.replace(entry + ".tmp", entry)
    except OSError:
        pass
    return accel, why


def terminate(proc):
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run(args):
    tmpdir = None
    if args.qmp:
        qmp_path = args.qmp
    else:
        tmpdir = tempfile.mkdtemp(prefix="kecpuhp-qmp-")
        qmp_path = os.path.join(tmpdir, "qmp.sock")
    # SIGTERM (make/CI cancelling us) must not leave QEMU behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        accel, why = choose_accel(args)
        if accel == "tcg" and args.accel == "auto":
            print(f"qemu.py: using TCG, KVM not usable: {why}", file=sys.stderr)
        if args.interactive:
            print(f"qemu.py: QMP socket {qmp_path} (scripts/qmp.py {qmp_path} CMD [JSON]); "
                  "Ctrl-A x quits QEMU", file=sys.stderr)
            return subprocess.call(qemu_command(args, qmp_path, accel))
        runner = Runner(args, qmp_path)
        runner.host(f"accel {accel} ({why})", echo=False)
        try:
            proc = subprocess.Popen(qemu_command(args, qmp_path, accel), stdout=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        except OSError as e:
            runner.host(f"cannot start QEMU: {e}")
            return 125
        try:
            return runner.run(proc)
        finally:
            if runner.qmp:
                runner.qmp.close()
            terminate(proc)
            if runner.log:
                runner.log.close()
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True, help="bzImage")
    p.add_argument("--initrd", required=True, help="initramfs (scripts/mkinitramfs.sh)")
    p.add_argument("--smp", type=int, default=2, help="CPUs present at boot")
    p.add_argument("--maxcpus", type=int, default=4, help="CPU slots (present + hot-add)")
    p.add_argument("--mem", type=int, default=1024, help="guest memory, MiB")
    p.add_argument("--append", default="", help="extra kernel command line")
    p.add_argument("--timeout", type=int, default=600, help="seconds until QEMU is killed")
    p.add_argument("--log", help="write the console (and host lines) here")
    p.add_argument("--interactive", action="store_true",
                   help="console on this terminal (initramfs guest script: exec sh)")
    p.add_argument("--qmp", help="QMP socket path (default: a temporary directory)")
    p.add_argument("--control", help="socket for the guest's second serial port")
    p.add_argument("--numa", action="store_true",
                   help="two NUMA nodes, one socket each (--maxcpus and --mem even)")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"),
                   default=os.environ.get("KECPUHP_ACCEL", "auto"),
                   help="accelerator; auto probes KVM once per kernel ($KECPUHP_ACCEL)")
    args = p.parse_args()
    if args.smp < 1 or args.maxcpus < args.smp:
        p.error("need 1 <= --smp <= --maxcpus")
    if args.numa and (args.maxcpus % 2 or args.mem % 2):
        p.error("--numa needs an even --maxcpus and --mem")
    try:
        sys.exit(run(args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
