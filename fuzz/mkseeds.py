#!/usr/bin/env python3
"""mkseeds.py [DIR] - write the seed inputs of the fuzz harnesses to
DIR/corpus/<harness>/ (DIR: this script's directory).  Each input is in
the format its harness's opening comment describes; run this again after
changing one, and commit what it writes."""

import gzip
import os
import shutil
import struct
import sys

NEXT, WRITE, INDIRECT = 1, 2, 4
seeds = {}


def seed(harness, name, data):
    seeds.setdefault(harness, []).append((name, bytes(data)))


class Ram:
    """A guest RAM image, from address 0, grown as it is written."""

    def __init__(self):
        self.b = bytearray()

    def put(self, addr, data):
        if len(self.b) < addr + len(data):
            self.b.extend(bytes(addr + len(data) - len(self.b)))
        self.b[addr:addr + len(data)] = data

    def desc(self, table, i, addr, length, flags=0, nxt=0):
        self.put(table + 16 * i, struct.pack('<QIHH', addr, length, flags, nxt))

    def avail(self, ring, heads, used_event=0, size=8):
        self.put(ring, struct.pack('<HH', 0, len(heads)))
        for i, h in enumerate(heads):
            self.put(ring + 4 + 2 * i, struct.pack('<H', h))
        self.put(ring + 4 + 2 * size, struct.pack('<H', used_event))


def queue(log2, desc, avail, used, high=0):
    return struct.pack('<BBHHH', log2, high, desc, avail, used)


# A queue of 8 in the first KiB: descriptors, available and used rings.
DESC, AVAIL, USED = 0x000, 0x080, 0x100
Q8 = queue(3, DESC, AVAIL, USED)

# ---- queue ---------------------------------------------------------------
r = Ram()
r.desc(DESC, 0, 0x200, 16, NEXT, 1)
r.desc(DESC, 1, 0x210, 1, WRITE)
r.avail(AVAIL, [0])
seed('queue', 'chain', b'\x00' + Q8 + r.b)

r = Ram()
r.desc(DESC, 0, 0x180, 48, INDIRECT)
r.desc(0x180, 0, 0x200, 16, NEXT, 1)
r.desc(0x180, 1, 0x210, 8, NEXT | WRITE, 2)
r.desc(0x180, 2, 0x218, 1, WRITE)
r.desc(DESC, 1, 0x220, 4, 0)
r.avail(AVAIL, [0, 1], used_event=1)
seed('queue', 'indirect-event', b'\x03' + Q8 + r.b)

r = Ram()
for i in range(8):
    r.desc(DESC, i, 0x200 + 8 * i, 8, NEXT if i < 7 else 0, (i + 1) % 8)
r.avail(AVAIL, [0, 7, 3])
seed('queue', 'long-chain', b'\x00' + Q8 + r.b)

r = Ram()
r.desc(DESC, 0, 0x100, 16)
r.avail(0x80, [0])
seed('queue', 'high-ram', b'\x04' + queue(3, 0, 0x80, 0x100, 4) + r.b)

# ---- blk -----------------------------------------------------------------
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = 0, 1, 4, 8, 11, 13


def blk_request(r, i, rtype, sector, data=None, written=0, status=0x700):
    """Request @i in descriptors 3i..3i+2: header, data, status."""
    hdr = 0x200 + 16 * i
    r.put(hdr, struct.pack('<IIQ', rtype, 0, sector))
    d = 3 * i
    r.desc(DESC, d, hdr, 16, NEXT, d + 1)
    if data is not None:
        r.put(0x400, data)
        r.desc(DESC, d + 1, 0x400, len(data), NEXT, d + 2)
    else:
        r.desc(DESC, d + 1, 0x800, written, NEXT | WRITE, d + 2)
    r.desc(DESC, d + 2, status + i, 1, WRITE)
    return d


def blk_seed(name, take, reqs):
    """A queue of 16: descriptors to 0x100, then the two rings."""
    r = Ram()
    heads = [blk_request(r, i, *q) for i, q in enumerate(reqs)]
    r.avail(0x100, heads, size=16)
    seed('blk', name, bytes([take]) + queue(4, DESC, 0x100, 0x140) + r.b)


blk_seed('read-write', 0, [(T_OUT, 2, b'\xab' * 512), (T_IN, 2, None, 512),
                           (T_FLUSH, 0, None, 0)])
blk_seed('get-id', 0, [(T_GET_ID, 0, None, 20)])
blk_seed('discard', 1, [(T_DISCARD, 0, struct.pack('<QII', 4, 8, 0))])
blk_seed('write-zeroes', 2, [(T_WZ, 0, struct.pack('<QII', 0, 16, 1) +
                                         struct.pack('<QII', 64, 8, 0))])
blk_seed('out-of-range', 0, [(T_IN, 127, None, 1024), (99, 0, None, 0)])

# ---- net -----------------------------------------------------------------
RXD, RXA, RXU = 0x000, 0x080, 0x100
TXD, TXA, TXU = 0x200, 0x280, 0x300
frame = bytes(12) + b'\xff' * 6 + b'\x52\x54\x00\x12\x34\x56\x08\x06' + bytes(46)


def net_seed(name, take, frames, rx, tx):
    r = Ram()
    heads = []
    for i, (length, flags) in enumerate(rx):
        r.desc(RXD, i, 0x800 + 0x600 * i, length, flags)
        heads.append(i)
    r.avail(RXA, heads)
    heads = []
    for i, n in enumerate(tx):
        r.put(0x1400, frame[:n])
        r.desc(TXD, i, 0x1400, n, 0)
        heads.append(i)
    r.avail(TXA, heads)
    # The frames on the tap are cut from the start of RAM: the rings.
    head = bytes([take, len(frames)]) + b''.join(struct.pack('<H', n) for n in frames)
    seed('net', name, head + queue(3, RXD, RXA, RXU) + queue(3, TXD, TXA, TXU) + r.b)


net_seed('rx-tx', 0, [74, 60], [(1526, WRITE), (1526, WRITE)], [74])
net_seed('short-rx', 5, [1500], [(12, WRITE)], [12, 74])
net_seed('bad-buffers', 8, [0], [(64, 0)], [4])

# ---- pci -----------------------------------------------------------------
PIO, WR = 2, 1
HOLE = 0     # offsets are from the start of the PCI hole: BAR0 is there
BAR1 = 0x4000


def acc(kind, size, off, value=0):
    code = {PIO: [1, 2, 4]}.get(kind & PIO, None)
    size_code = code.index(size) if code else size - 1
    return struct.pack('<BBIQ', kind, size_code, off, value)


def cfg(slot, reg, size=4, value=None):
    """A config-space access through ports 0xcf8/0xcfc."""
    a = acc(PIO | WR, 4, 0, 0x80000000 | slot << 11 | (reg & 0xfc))
    port = 4 + (reg & 3)
    if value is None:
        return a + acc(PIO, size, port)
    return a + acc(PIO | WR, size, port, value)


def mmio(off, size, value=None):
    return acc(0, size, off) if value is None else acc(WR, size, off, value)


s = b''.join(cfg(slot, reg) for slot in (0, 1, 2) for reg in range(0, 0xa8, 4))
seed('pci', 'enumerate', s)

s = b''.join([mmio(0x14, 1, 1), mmio(0x14, 1, 3), mmio(0x00, 4), mmio(0x04, 4),
              mmio(0x00, 4, 1), mmio(0x04, 4), mmio(0x08, 4, 1), mmio(0x0c, 4, 1),
              mmio(0x14, 1, 11), mmio(0x14, 1), mmio(0x16, 2, 0),
              mmio(0x18, 2, 8), mmio(0x20, 8, 0x0), mmio(0x28, 8, 0x80),
              mmio(0x30, 8, 0x100), mmio(0x1a, 2, 1), mmio(0x1c, 2, 1),
              mmio(0x14, 1, 15), mmio(0x3000, 2, 0), mmio(0x1000, 1),
              mmio(0x2000, 8), mmio(0x2004, 4, 7), mmio(0x14, 1, 0)])
seed('pci', 'virtio-init', s)

MSIX = 0x98
s = b''.join([cfg(1, MSIX + 2, 2, 0x8000), mmio(BAR1 + 0, 8, 0xfee00000),
              mmio(BAR1 + 8, 4, 0x41), mmio(BAR1 + 12, 4, 0), mmio(BAR1 + 14, 4, 0),
              mmio(0x10, 2, 0), mmio(BAR1 + 0x800, 8), cfg(1, MSIX + 2, 2, 0xc000),
              cfg(1, 0x04, 2, 0x406), cfg(1, 0x10, 4, 0xffffffff), cfg(1, 0x10),
              cfg(1, 0x10, 4, 0xc0100000), mmio(0x100000, 4)])
seed('pci', 'msix-bars', s)

WIN = 0x84
s = b''.join([cfg(1, WIN + 4, 1, 0), cfg(1, WIN + 8, 4, 0x14), cfg(1, WIN + 12, 4, 1),
              cfg(1, WIN + 16, 1, 1), cfg(1, WIN + 16, 1), cfg(1, WIN + 4, 1, 1),
              cfg(1, WIN + 8, 4, 0x800), cfg(1, WIN + 12, 4, 4), cfg(1, WIN + 16)])
seed('pci', 'cfg-window', s)

# ---- boot ----------------------------------------------------------------


def elf(paddr=0x100000, body=b'\xf4' * 64, memsz=0x2000, phnum=1):
    eh = struct.pack('<4sBBBBB7sHHIQQQIHHHHHH', b'\x7fELF', 2, 1, 1, 0, 0,
                     bytes(7), 2, 62, 1, paddr, 64, 0, 0, 64, 56, phnum, 0, 0, 0)
    ph = b''
    for i in range(phnum):
        ph += struct.pack('<IIQQQQQQ', 1, 7, 0x1000, paddr + i * memsz,
                          paddr + i * memsz, len(body), memsz, 0x1000)
    return (eh + ph).ljust(0x1000, b'\0') + body


def bzimage(version=0x020f, pm=1024):
    b = bytearray(1024)
    b[0x1f1] = 1                                  # setup_sects
    struct.pack_into('<I', b, 0x1f4, pm // 16)     # syssize
    struct.pack_into('<H', b, 0x1fe, 0xaa55)
    b[0x200], b[0x201] = 0xeb, 0x6a
    b[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', b, 0x206, version)
    b[0x211] = 1                                  # LOADED_HIGH
    struct.pack_into('<I', b, 0x22c, 0x7fffffff)  # initrd_addr_max
    struct.pack_into('<H', b, 0x236, 1)           # XLF_KERNEL_64
    struct.pack_into('<I', b, 0x238, 2047)        # cmdline_size
    struct.pack_into('<Q', b, 0x258, 0x100000)    # pref_address
    struct.pack_into('<I', b, 0x260, 0x200000)    # init_size
    return bytes(b) + b'\x90' * pm


def gz(data):
    return gzip.compress(data, mtime=0)


seed('boot', 'vmlinux', elf())
seed('boot', 'vmlinux-2seg', elf(phnum=2, memsz=0x1000))
seed('boot', 'bzimage', bzimage())
seed('boot', 'vmlinux.gz', gz(elf()))
seed('boot', 'bzimage.gz', gz(bzimage()))
seed('boot', 'too-big', elf(memsz=0x10000000))

# ---- config and args -----------------------------------------------------
seed('config', 'demo', b'# the demo\nmemory = 64M\nkernel = /boot/vmlinux\n'
     b'block = /var/lib/lguest/demo/disk.img,size=16M\ncmdline = test=demo\n')
seed('config', 'all', b'memory=128M\nkernel=k\ninitrd = i\nrng = yes\n'
     b'tunnet = 10.0.0.1/24:52:54:00:12:34:56\nconsole = pty\n'
     b'console-input = serial\nshutdown-timeout = 30\nname = demo-1\n'
     b'pidfile = /run/x.pid\ndaemon = no\nverbose = 1\nno-seccomp = false\n'
     b'user = nobody\nchroot = /var/empty\n')
seed('config', 'bad', b'  \n\t# c\nmemory\n= x\nconfig = y\nrng = maybe\n')
seed('args', 'plain', b'64\0/boot/vmlinux\0console=hvc0\0quiet')
seed('args', 'options', b'--block=disk.img,ro\0--rng\0--tunnet=bridge:br0\0'
     b'--console=socket\0--daemon\0--name=g1\0--shutdown-timeout=5\0'
     b'--console-input\0virtio\0-v\0512M\0k\0--initrd=x')
seed('args', 'config', b'--config\0f\0--initrd=i\0kernel-arg')
seed('args', 'bad', b'--memory=1\0-x\0--block\0--help')

DICTS = {
    'config': ['memory', 'kernel', 'cmdline', 'config', 'initrd', 'block',
               'tunnet', 'rng', 'console', 'console-input', 'name',
               'pidfile', 'daemon', 'user', 'username', 'chroot',
               'shutdown-timeout', 'no-seccomp', 'verbose', 'yes', 'no',
               ' = ', '\\x0a', '#', 'socket:', 'file:', 'pty', 'stdio',
               'serial', 'virtio', ',ro', ',size=', 'bridge:', 'tap:',
               'M', 'G', 'K', 'MiB'],
}
DICTS['args'] = ['--' + w for w in DICTS['config'][:18]] + \
    ['--config=', '-v', '-h', '-V', '\\x00', '64', '512M', 'ttyS0']


def main():
    here = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for harness, inputs in seeds.items():
        d = os.path.join(here, 'corpus', harness)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in inputs:
            with open(os.path.join(d, name), 'wb') as f:
                f.write(data)
    for harness, words in DICTS.items():
        with open(os.path.join(here, harness + '.dict'), 'w') as f:
            f.write('# Words of %s, for libFuzzer -dict= (fuzz/mkseeds.py '
                    'writes this file).\n' % harness)
            for w in words:
                f.write('"%s"\n' % w)


main()
