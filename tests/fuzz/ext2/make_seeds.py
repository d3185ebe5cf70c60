#!/usr/bin/env python3
"""Small ext2 images for fuzz-ext2's seed corpus, made by mke2fs -d.

make_seeds.py OUT... writes one image per output, in the order of SHAPES.
"""
import os
import subprocess
import sys
import tempfile

# mke2fs options per image: 1 KiB blocks in 64 KiB; revision 0; no
# filetype in directory entries; 2 KiB blocks.
SHAPES = [
    (64, ['-b', '1024', '-N', '32', '-I', '128']),
    (64, ['-b', '1024', '-N', '32', '-r', '0']),
    (64, ['-b', '1024', '-N', '32', '-I', '128', '-O', '^filetype']),
    (128, ['-b', '2048', '-N', '32']),
]


def make_tree(root):
    os.makedirs(os.path.join(root, 'd'))
    with open(os.path.join(root, 'd', 'f'), 'w') as out:
        out.write('hello\n')
    with open(os.path.join(root, 'big'), 'wb') as out:
        out.write(bytes(range(256)) * 60)
        out.seek(40000)
        out.write(b'tail')
    os.symlink('d/f', os.path.join(root, 'l'))
    os.symlink('x' * 100, os.path.join(root, 'slow'))
    os.mkfifo(os.path.join(root, 'p'))


def main():
    outputs = sys.argv[1:]
    if len(outputs) != len(SHAPES):
        sys.exit('make_seeds.py: %d outputs expected' % len(SHAPES))
    with tempfile.TemporaryDirectory() as root:
        make_tree(root)
        for output, (kib, options) in zip(outputs, SHAPES):
            with open(output, 'wb') as image:
                image.truncate(kib * 1024)
            subprocess.run(['mke2fs', '-q', '-F', '-t', 'ext2'] + options + ['-d', root, output, '%dk' % kib],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
