#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one QMP command to a running QEMU and print the reply as JSON.

  qmp.py SOCK CMD [JSON-ARGS]

SOCK is the QMP unix socket (qemu.py --qmp PATH, or the path qemu.py prints
in --interactive mode). Examples:

  qmp.py build/vm/qmp.sock query-hotpluggable-cpus
  qmp.py build/vm/qmp.sock device_add \\
      '{"driver":"qemu64-x86_64-cpu","id":"cpu2","socket-id":0,"core-id":2,"thread-id":0}'

Exit status: 0 when QEMU answered "return", 1 when it answered "error",
2 on a usage or connection problem. Also the QMP client library for qemu.py
and vm.py (class Qmp). Python standard library only.
"""
import json
import os
import socket
import sys
import time


class QmpError(Exception):
    """The QMP connection failed or QEMU went away."""


class Qmp:
    """A minimal QMP client: one connection, commands answered in order.

    Asynchronous events ({"event": ...}) met while waiting for a reply are
    kept in self.events and otherwise skipped.
    """

    def __init__(self, path, timeout=30):
        self.events = []
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QmpError(f"cannot connect to QMP socket {path}: {e}") from e
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")
        greeting = self._read()
        if "QMP" not in greeting:
            raise QmpError(f"unexpected QMP greeting: {greeting}")
        reply = self.command("qmp_capabilities")
        if "return" not in reply:
            raise QmpError(f"qmp_capabilities refused: {reply}")

    def _read(self):
        try:
            line = self.file.readline()
        except (OSError, socket.timeout) as e:
            raise QmpError(f"reading from QMP: {e}") from e
        if not line:
            raise QmpError("QMP connection closed by QEMU")
        try:
            return json.loads(line)
        except ValueError as e:
            raise QmpError(f"bad QMP message {line!r}") from e

    def command(self, name, **arguments):
        """Execute NAME; return the reply dict ({"return": ...} or {"error": ...})."""
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        try:
            self.file.write(json.dumps(msg) + "\n")
            self.file.flush()
        except OSError as e:
            raise QmpError(f"writing to QMP: {e}") from e
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            return reply

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


def device_add_cpu(qmp, core, driver="qemu64-x86_64-cpu"):
    """Hot-add a CPU in socket 0, core CORE (-smp N,maxcpus=M is 1 socket x M
    cores). Return (ok, reply)."""
    reply = qmp.command("device_add", driver=driver, id=f"cpu{core}",
                        **{"socket-id": 0, "core-id": core, "thread-id": 0})
    return "error" not in reply, reply


def main(argv):
    if len(argv) not in (2, 3) or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    path, name = argv[0], argv[1]
    arguments = {}
    if len(argv) == 3:
        try:
            arguments = json.loads(argv[2])
        except ValueError as e:
            print(f"qmp.py: JSON-ARGS is not JSON: {e}", file=sys.stderr)
            return 2
        if not isinstance(arguments, dict):
            print("qmp.py: JSON-ARGS must be a JSON object", file=sys.stderr)
            return 2
    if not os.path.exists(path):
        print(f"qmp.py: {path}: no such socket (is QEMU running?)", file=sys.stderr)
        return 2
    try:
        qmp = Qmp(path, timeout=10)
        reply = qmp.command(name, **arguments)
        qmp.close()
    except QmpError as e:
        print(f"qmp.py: {e}", file=sys.stderr)
        return 2
    print(json.dumps(reply, indent=2))
    return 0 if "return" in reply else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
