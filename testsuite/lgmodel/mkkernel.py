#!/usr/bin/env python3
# mkkernel.py - fake 32-bit paravirtualised kernels for the lguest
# Launcher's tests with the /dev/lguest model (lgmodel.so).  Nothing in
# them runs: the model's guest checks that the Launcher put their bytes
# where the x86 boot protocol says and starts the guest at their entry.
#
#   mkkernel.py bzimage OUT    a bzImage: boot sector and setup header
#                              ("HdrS", protocol 2.10, four setup sectors,
#                              code32_start 0x100000), then 64 KiB of
#                              protected-mode part
#   mkkernel.py elf OUT        an ELF32 i386 vmlinux: text at physical
#                              16 MiB (virtual 0xc1000000, as Linux links
#                              it), data with bss after it, entry at the
#                              text's start
#
# The protected-mode bytes begin with cli; hlt; jmp back to the hlt, then
# a line saying what this is, then xorshift32 bytes: the same on every
# build, and unlike anything a Launcher would put in RAM by itself.
import os
import struct
import sys

BANNER = b"lgmodel fake 32-bit paravirt kernel, not to be run\n\0"


def payload(size, seed):
    out = bytearray(b"\xfa\xf4\xeb\xfd" + BANNER)
    x = seed
    while len(out) < size:
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        out += struct.pack("<I", x)
    return bytes(out[:size])


def bzimage():
    setup_sects = 4
    pm = payload(64 * 1024, 0x1a2b3c4d)
    setup = bytearray((setup_sects + 1) * 512)
    struct.pack_into("<B", setup, 0x1f1, setup_sects)
    struct.pack_into("<I", setup, 0x1f4, (len(pm) + 15) // 16)  # syssize
    struct.pack_into("<H", setup, 0x1fe, 0xaa55)                # boot_flag
    setup[0x200:0x202] = b"\xeb\x66"                            # jump
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020a)                # version
    struct.pack_into("<H", setup, 0x20e, 0x200)                 # kernel_version
    struct.pack_into("<B", setup, 0x211, 0x01)                  # LOADED_HIGH
    struct.pack_into("<I", setup, 0x214, 0x100000)              # code32_start
    struct.pack_into("<I", setup, 0x22c, 0x37ffffff)            # initrd_addr_max
    struct.pack_into("<I", setup, 0x230, 0x1000000)             # kernel_alignment
    struct.pack_into("<I", setup, 0x238, 2047)                  # cmdline_size
    name = b"0.0.0-lgmodel (a fake for lguest's tests)\0"
    setup[0x400:0x400 + len(name)] = name
    return bytes(setup) + pm


def elf():
    text = payload(40 * 1024, 0x5eed1234)
    data = payload(8 * 1024, 0x0badcafe)
    bss = 16 * 1024
    ehsize, phsize = 52, 32
    text_off = 0x1000
    data_off = text_off + len(text)
    paddr, vaddr = 0x1000000, 0xc1000000
    data_paddr = paddr + 0x10000
    eh = bytearray(ehsize)
    eh[0:16] = b"\x7fELF\x01\x01\x01" + bytes(9)
    struct.pack_into("<HHIIIIIHHHHHH", eh, 16,
                     2, 3, 1,               # ET_EXEC, EM_386, EV_CURRENT
                     paddr,                 # e_entry: startup_32, physical
                     ehsize, 0, 0,          # e_phoff, e_shoff, e_flags
                     ehsize, phsize, 2,     # e_ehsize, e_phentsize, e_phnum
                     0, 0, 0)
    ph = b""
    for off, pa, size, mem, flags in ((text_off, paddr, len(text), len(text), 5),
                                      (data_off, data_paddr, len(data),
                                       len(data) + bss, 6)):
        ph += struct.pack("<IIIIIIII", 1, off, vaddr + (pa - paddr), pa,
                          size, mem, flags, 0x1000)
    head = bytes(eh) + ph
    return head + bytes(text_off - len(head)) + text + data


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("bzimage", "elf"):
        sys.exit("usage: mkkernel.py bzimage|elf OUT")
    image = bzimage() if sys.argv[1] == "bzimage" else elf()
    with open(sys.argv[2] + ".tmp", "wb") as f:
        f.write(image)
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])


if __name__ == "__main__":
    main()
