#!/usr/bin/env python3
"""Writes test inputs for core/lib/compress, compressed by the real tools.

  gen_fixtures.py fixtures OUTDIR MANIFEST
      Generates data sets (text, random, zeros, mixed, empty, one byte,
      several MiB), compresses them with the gzip and zstd command-line
      tools at several settings (and a few gzip headers and zstd frame
      layouts the tools never write, built here from zlib's output), checks
      every file with the tool's own decompressor, and writes MANIFEST: one
      line per case, tab-separated:

          name  format  compressed-file  expected-output-file  window-log

      window-log is the smallest max_window_log that decodes the case (0
      when the default does).

  gen_fixtures.py seeds OUTPUT...
      Writes small streams for the fuzzers' seed corpora; each OUTPUT's file
      name picks its content (see SEEDS).

Everything is deterministic: the same data and the same streams every run.
"""

import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so no what more can out up other into could "
    "kernel module initramfs archive compression window table huffman literal offset sequence frame block member "
    "signature loader symbol version mount root device driver buffer memory thread interrupt"
).split()


def text_data(rng, size):
    """English-like text with lines, punctuation and some structure."""
    out = []
    total = 0
    while total < size:
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 16))]
        line = " ".join(words).capitalize() + rng.choice([".", ".", ",", ";", "!", "?"]) + "\n"
        if rng.random() < 0.1:
            line = "    " + "key_%d = %d\n" % (rng.randint(0, 999), rng.randint(0, 1 << 20))
        out.append(line)
        total += len(line)
    return "".join(out).encode()[:size]


def random_data(rng, size):
    return rng.randbytes(size)


def binary_data(rng, size):
    """Records of little-endian integers that change slowly, like tables in an ELF file."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        counter += rng.randint(1, 64)
        out += struct.pack("<IIHHQ", counter, counter * 3 + 7, rng.randint(0, 15), 0x8000, counter << 12)
    return bytes(out[:size])


def mixed_data(rng, size):
    """Pieces of every kind, with repeats near and far (beyond 32 KiB and 1 MiB)."""
    out = bytearray()
    while len(out) < size:
        kind = rng.randint(0, 6)
        length = rng.randint(1, 96 * 1024)
        if kind == 0:
            out += text_data(rng, length)
        elif kind == 1:
            out += random_data(rng, min(length, 16 * 1024))
        elif kind == 2:
            out += bytes([rng.randint(0, 255)]) * length
        elif kind == 3:
            pattern = random_data(rng, rng.randint(2, 12))
            out += (pattern * (length // len(pattern) + 1))[:length]
        elif kind == 4:
            out += binary_data(rng, length)
        elif kind >= 5 and len(out) > 4096:
            start = rng.randint(0, len(out) - 1)
            piece = out[start : start + min(length, 200 * 1024)]
            out += piece
    return bytes(out[:size])


def far_repeats(rng, size):
    """Random data repeated once, so only a window of size/2 finds the match."""
    half = random_data(rng, size // 2)
    return half + half


def small_alphabet(rng, size):
    """Bytes 0..15, skewed: Huffman literals with few symbols, whose weights zstd sends directly."""
    return bytes(min(int(rng.expovariate(0.35)), 15) for _ in range(size))


def single_literals(rng, size):
    """A random piece repeated with one byte between copies: after the first block every literal is 'z'."""
    piece = random_data(rng, 200)
    return ((piece + b"z") * (size // 201 + 1))[:size]


def data_sets():
    rng = random.Random(20240611)
    return {
        "empty": b"",
        "one": b"x",
        "short": b"Keel decompresses its initramfs.\n",
        "small": text_data(rng, 2500) + binary_data(rng, 1500),
        "text": text_data(rng, 300 * 1024),
        "random": random_data(rng, 256 * 1024),
        "zeros": bytes(1024 * 1024),
        "binary": binary_data(rng, 512 * 1024),
        "alphabet": small_alphabet(rng, 64 * 1024),
        "single-literals": single_literals(rng, 512 * 1024),
        "mixed": mixed_data(rng, 4 * 1024 * 1024),
        "far": far_repeats(rng, 3 * 1024 * 1024),
    }


def run(command, data=None):
    return subprocess.run(command, input=data, stdout=subprocess.PIPE, check=True).stdout


def gzip_member(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY, flags=0, extra=b"", name=b"", comment=b""):
    """A gzip member around zlib's raw DEFLATE, with header fields the gzip tool never writes."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    body = compressor.compress(data) + compressor.flush()
    header = bytearray(b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", 1700000000) + b"\x00\x03")
    if flags & 4:
        header += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        header += name + b"\x00"
    if flags & 16:
        header += comment + b"\x00"
    if flags & 2:
        header += struct.pack("<H", zlib.crc32(bytes(header)) & 0xFFFF)
    return bytes(header) + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def skippable(magic_low, payload):
    return struct.pack("<II", 0x184D2A50 | magic_low, len(payload)) + payload


def gzip_cases(data, path):
    """(name, compressed) pairs; `path` is a file holding `data` for tools that want one."""
    cases = []
    for level in ("-1", "-6", "-9"):
        cases.append(("gzip" + level, run(["gzip", "-c", "-n", level], data)))
    # The tool stores the file name (FNAME) when it reads a file.
    cases.append(("gzip-name", run(["gzip", "-c", "-9", path])))
    cases.append(("zlib-stored", gzip_member(data, level=0)))
    cases.append(("zlib-fixed", gzip_member(data, strategy=zlib.Z_FIXED)))
    cases.append(("zlib-huffman-only", gzip_member(data, strategy=zlib.Z_HUFFMAN_ONLY)))
    cases.append(("zlib-rle", gzip_member(data, strategy=zlib.Z_RLE)))
    cases.append(
        (
            "zlib-all-flags",
            gzip_member(data, flags=2 | 4 | 8 | 16, extra=b"KE\x04\x00keel", name=b"initramfs.cpio", comment=b"test"),
        )
    )
    return cases


def zstd_rle_literals(byte, count):
    """A frame whose one compressed block holds RLE literals and no sequences.

    The zstd tool writes RLE literals only when a block's literals are one
    byte repeated, which ordinary data rarely gives; so this is built here
    (and, like every fixture, checked with zstd -d).
    """
    literals = struct.pack("<H", 1 | (1 << 2) | (count << 4)) + bytes([byte])
    block = literals + b"\x00"  # Number_of_Sequences 0
    header = struct.pack("<I", (len(block) << 3) | (2 << 1) | 1)[:3]
    return struct.pack("<I", 0xFD2FB528) + b"\x00\x00" + header + block


def zstd_cases(data):
    cases = []
    for options in (["-1"], ["-3"], ["-19"], ["-19", "--no-check"], ["-1", "--no-check"], ["-3", "--zstd=wlog=10"]):
        cases.append(("zstd" + "".join(options).replace("=", ""), run(["zstd", "-q", "-c"] + options, data)))
    # Streamed from a pipe, zstd cannot know the size: no Frame_Content_Size.
    cases.append(("zstd-stream", run(["sh", "-c", "cat | zstd -q -c -3 --no-content-size"], data)))
    return cases


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def fixtures(outdir, manifest_path):
    for tool in ("gzip", "zstd"):
        if not shutil.which(tool):
            sys.exit("gen_fixtures.py: %s is not installed (scripts/lib.sh installs it)" % tool)
    os.makedirs(outdir, exist_ok=True)
    sets = data_sets()
    lines = []

    def add(name, fmt, compressed, expected_path, window_log=0):
        path = os.path.join(outdir, name + (".gz" if fmt == "gzip" else ".zst"))
        write(path, compressed)
        # Every fixture must be what the real tool accepts.
        tool = ["gzip", "-dc"] if fmt == "gzip" else ["zstd", "-dc", "--long=31"]
        with open(expected_path, "rb") as f:
            expected = f.read()
        decoded = run(tool, compressed)
        if decoded != expected:
            sys.exit("gen_fixtures.py: %s does not decode to its data with %s" % (name, tool[0]))
        lines.append("\t".join([name, fmt, path, expected_path, str(window_log)]))

    for set_name, data in sets.items():
        if set_name == "far":
            continue
        data_path = os.path.join(outdir, set_name + ".data")
        write(data_path, data)
        for case, compressed in gzip_cases(data, data_path):
            add(set_name + "." + case, "gzip", compressed, data_path)
        for case, compressed in zstd_cases(data):
            add(set_name + "." + case, "zstd", compressed, data_path)

    # Concatenations: gzip members, zstd frames with skippable frames
    # between them.
    text, mixed, zeros = sets["text"], sets["mixed"], sets["zeros"]
    joined = text + mixed + zeros
    joined_path = os.path.join(outdir, "joined.data")
    write(joined_path, joined)
    members = run(["gzip", "-c", "-n", "-1"], text) + run(["gzip", "-c", "-9", "-n"], mixed)
    members += gzip_member(zeros, flags=8, name=b"zeros")
    add("joined.gzip-members", "gzip", members, joined_path)
    frames = skippable(0, b"keel") + run(["zstd", "-q", "-c", "-19"], text)
    frames += skippable(15, b"") + run(["zstd", "-q", "-c", "-1", "--no-check"], mixed)
    frames += run(["sh", "-c", "cat | zstd -q -c -3 --no-content-size"], zeros) + skippable(7, bytes(100))
    add("joined.zstd-frames", "zstd", frames, joined_path)
    rle_path = os.path.join(outdir, "q500.data")
    write(rle_path, b"q" * 500)
    add("q500.zstd-rle-literals", "zstd", zstd_rle_literals(ord("q"), 500), rle_path)
    # Only skippable frames: valid, and no output.
    add("skippable-only.zstd", "zstd", skippable(1, b"abc") + skippable(2, b""), os.path.join(outdir, "empty.data"))

    # A window beyond the default 8 MiB limit: --long from a pipe keeps
    # the 128 MiB window in the header.
    far_path = os.path.join(outdir, "far.data")
    write(far_path, sets["far"])
    add("far.zstd-long", "zstd", run(["sh", "-c", "cat | zstd -q -c -3 --long=27"], sets["far"]), far_path, 27)
    add("far.zstd-19", "zstd", run(["zstd", "-q", "-c", "-19"], sets["far"]), far_path)
    add("far.gzip-9", "gzip", run(["gzip", "-c", "-n", "-9"], sets["far"]), far_path)

    with open(manifest_path, "w") as f:
        f.write("\n".join(lines) + "\n")


# Seed corpora for the fuzzers: small streams that reach every block and
# table type.
def seeds(outputs):
    rng = random.Random(7)
    text = text_data(rng, 3000)
    binary = binary_data(rng, 2000)
    mixed = mixed_data(rng, 6000)

    def zstd(options, data):
        return run(["zstd", "-q", "-c"] + options, data)

    def gz(options, data):
        return run(["gzip", "-c", "-n"] + options, data)

    table = {
        "text-1.gz": lambda: gz(["-1"], text),
        "text-9.gz": lambda: gz(["-9"], text),
        "binary.gz": lambda: gz(["-6"], binary),
        "stored.gz": lambda: gzip_member(random_data(rng, 300), level=0),
        "fixed.gz": lambda: gzip_member(text[:500], strategy=zlib.Z_FIXED),
        "flags.gz": lambda: gzip_member(
            b"abcabcabc", flags=2 | 4 | 8 | 16, extra=b"ab\x01\x00z", name=b"n", comment=b"c"
        ),
        "members.gz": lambda: gz(["-1"], b"first\n") + gz(["-9"], b"second\n"),
        "empty.gz": lambda: gz([], b""),
        "text-1.zst": lambda: zstd(["-1"], text),
        "text-19.zst": lambda: zstd(["-19"], text),
        "binary.zst": lambda: zstd(["-3"], binary),
        "mixed.zst": lambda: zstd(["-19", "--no-check"], mixed),
        "rle.zst": lambda: zstd(["-1"], bytes(5000) + b"x" * 3000),
        "raw.zst": lambda: zstd(["-1"], random_data(rng, 400)),
        "frames.zst": lambda: skippable(3, b"s") + zstd(["-3", "--no-content-size"], b"one\n") + zstd(["-1"], b""),
        "small-window.zst": lambda: zstd(["-3", "--zstd=wlog=10"], mixed[:3000]),
    }
    for output in outputs:
        name = os.path.basename(output)
        if name not in table:
            sys.exit("gen_fixtures.py: no seed called %s" % name)
        write(output, table[name]())


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "seeds":
        seeds(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
