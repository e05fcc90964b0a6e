#!/usr/bin/env python3
# stalled-console.py LGUEST GUEST - lguest's stdout is a one-page pipe that
# nobody reads, so the guest's output (test=flood) soon blocks in a write;
# then a key is pressed and SIGTERM sent.  A Launcher that blocks its
# main thread on the stalled console never sees the signal.  Prints
# "exit STATUS after MS ms" (or "hung after MS ms"), then lguest's stderr.
import fcntl
import os
import signal
import subprocess
import sys
import termios
import time

F_SETPIPE_SZ = 1031

lguest, guest = sys.argv[1:3]
r, w = os.pipe()
fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
p = subprocess.Popen([lguest, '--shutdown-timeout=1', '32M', guest,
                      'test=flood'], stdin=subprocess.PIPE, stdout=w,
                     stderr=subprocess.PIPE)
os.close(w)

# Wait for the pipe to fill: from then on the guest's writes block.
size = 4096
deadline = time.monotonic() + 120
while time.monotonic() < deadline and p.poll() is None:
    n = fcntl.ioctl(r, termios.FIONREAD, b'\0\0\0\0')
    if int.from_bytes(n, 'little') >= size:
        break
    time.sleep(0.2)
else:
    print('the pipe never filled (lguest status %s)' % p.poll())
time.sleep(1)

# A key for the guest, then the signal a service manager sends.
p.stdin.write(b'x')
p.stdin.flush()
time.sleep(1)
t0 = time.monotonic()
p.send_signal(signal.SIGTERM)
try:
    status = p.wait(timeout=30)
    print('exit %d after %d ms' % (status, (time.monotonic() - t0) * 1000))
except subprocess.TimeoutExpired:
    print('hung after %d ms' % ((time.monotonic() - t0) * 1000))
    p.kill()
    p.wait()
sys.stdout.write(p.stderr.read().decode(errors='replace'))
