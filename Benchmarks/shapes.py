"""Corpus shapes for compare.py beyond make-corpus.py's mixed tree (issue 16's table):

  one-big-file   a single file of SIZE MiB, half incompressible and half text-like, every
                 1 MiB block unique (so deduplication does not shrink it)
  small-files    COUNT files of 1-4 KiB of text-like bytes, 100 to a directory

Each has a `mutate` that changes about 2% of the corpus, as make-corpus.py mutate does for
the mixed one: overwritten blocks of the big file, rewritten and new small files.
Python 3.9+ standard library only; deterministic for a seed.
"""
import os
import random

MiB = 1 << 20
WORDS = ("backup restore snapshot chunk pack index segment repository location verify "
         "encrypt seal tree blob orders customer amount note invoice payment shipped pending "
         "the of and to in is that for it as was with be by on not he this are or his").split()


def text_bytes(rng, n):
    out = bytearray()
    while len(out) < n:
        out += (" ".join(rng.choice(WORDS) for _ in range(12)) + f" {rng.getrandbits(32):08x}\n").encode()
    return bytes(out[:n])


def make_one_big_file(root, size_mb, seed):
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "big.bin")
    # A few text blocks reused with changes: generating fresh text for gigabytes in Python
    # would take minutes; each written block is still unique (its changed bytes differ).
    pool = [text_bytes(rng, MiB) for _ in range(16)]
    with open(path, "wb") as f:
        for i in range(size_mb):
            if i % 2 == 0:
                f.write(rng.randbytes(MiB))
            else:
                block = bytearray(rng.choice(pool))
                for _ in range(64):
                    block[rng.randrange(MiB)] = rng.randrange(256)
                f.write(block)
    return f"{path}: 1 file, {size_mb} MiB (half random, half text-like; every 1 MiB block unique)"


def mutate_one_big_file(root, percent, seed):
    rng = random.Random(seed + 1)
    path = os.path.join(root, "big.bin")
    size = os.path.getsize(path)
    blocks = max(1, size * percent // 100 // MiB)
    with open(path, "r+b") as f:
        for _ in range(blocks):
            f.seek(rng.randrange(size // MiB) * MiB)
            f.write(rng.randbytes(MiB))
    return f"mutate: {blocks} blocks of 1 MiB overwritten in place ({percent}% of {size // MiB} MiB)"


def make_small_files(root, count, seed):
    rng = random.Random(seed)
    total = 0
    for i in range(count):
        d = os.path.join(root, f"d{i // 100:05d}")
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        data = text_bytes(rng, rng.randint(1024, 4096))
        with open(os.path.join(d, f"f{i:07d}.txt"), "wb") as f:
            f.write(data)
        total += len(data)
    return f"{root}: {count} files of 1-4 KiB in {(count + 99) // 100} directories, {total / MiB:.1f} MiB"


def mutate_small_files(root, percent, seed):
    rng = random.Random(seed + 1)
    dirs = sorted(os.listdir(root))
    files = [os.path.join(root, d, n) for d in dirs for n in sorted(os.listdir(os.path.join(root, d)))]
    changed = max(1, len(files) * percent // 100)
    for path in rng.sample(files, changed // 2):
        with open(path, "wb") as f:
            f.write(text_bytes(rng, rng.randint(1024, 4096)))
    extra = os.path.join(root, "new")
    os.makedirs(extra, exist_ok=True)
    for i in range(changed - changed // 2):
        with open(os.path.join(extra, f"n{i:07d}.txt"), "wb") as f:
            f.write(text_bytes(rng, rng.randint(1024, 4096)))
    return f"mutate: {changed // 2} files rewritten, {changed - changed // 2} added ({percent}% of {len(files)})"
