#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<harness>/ from the project's
own small files (examples, tests/data, manifests) and a few hand-made edge
cases.  Run from the repository root; the output is committed, so this is
only rerun when the inputs of a harness change.  The checkpoint seeds
{a,b,c}-rank-0.ckpt are real checkpoints of small runs (quadratic with adam;
softmax on tiny_multiclass.svm with overlap_local_sgd + rmsprop; local_sgd
with an adam outer), committed as they are; the edge cases here are made
from the first."""
import glob, gzip, json, os, struct

ROOT = "tests/fuzz/corpus"


def put(harness, name, data):
    os.makedirs(f"{ROOT}/{harness}", exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(f"{ROOT}/{harness}/{name}", "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# config: examples, the suite's valid and invalid configs, --set after NULs
for path in sorted(glob.glob("examples/*.json") + glob.glob("examples/reproduce/*.json")):
    put("config", path.replace("/", "_"), read(path))
for kind in ("valid", "invalid"):
    for i, cfg in enumerate(json.load(open(f"tests/data/host/{kind}-configs.json"))):
        put("config", f"{kind}-{i}.json", json.dumps(cfg))
put("config", "sets", read("examples/quickstart.json") +
    b"\0workers=3\0algorithm.lr=0.1\0scaling.plugin=rmsprop\0scaling.params={\"beta\":0.9}"
    b"\0schedule.type=increasing\0schedule.rounds=4")
put("config", "outer-loose", '{"outer": {"plugin": "sgd", "momentum": 0.9, "lr": 1},'
    ' "algorithm": {"type": "overlap_local_sgd", "overlap": {"alpha": 1, "beta": 0}}}')
put("config", "integer-reals", '{"workers": 2.0, "model": {"type": "quadratic", "dim": 20.0},'
    ' "schedule": {"period": 8.0}, "algorithm": {"steps": 1e12}}')
put("config", "set-into-scalar", '{"model": 3}\0model.type=mlp\0.a=1\0a..b=2\0=x')
put("config", "synthetic-huge", '{"data": {"train": {"format": "synthetic", "n": 4611686018427387905,'
    ' "d": 1}}}')

# manifest: every shipped manifest, alone and with params
for path in sorted(glob.glob("plugins/*/*.json") + glob.glob("transports/*/*.json")):
    name = os.path.basename(path)
    put("manifest", name, read(path))
    params = {k: v.get("default", 1) for k, v in json.load(open(path)).get("params", {}).items()}
    put("manifest", name + "+params", read(path) + b"\0" + json.dumps(params).encode())
put("manifest", "unknown-param", read("plugins/adam/adam.json") + b'\0{"beta3": 1, "beta1": 2}')
put("manifest", "enum-bounds", json.dumps({
    "name": "x", "kind": "scaling", "version": "1", "library": "x.so", "description": "d",
    "abi": {"major": 1, "minor": 0},
    "params": {"a": {"type": "number", "default": 0.5, "minimum": 0, "exclusiveMaximum": 1},
               "b": {"type": "string", "enum": ["p", "q"], "default": "p"},
               "c": {"type": "integer", "default": 3, "maximum": 2}}}) + '\0{"a": 1, "b": "r"}')

# LIBSVM and CSV: the suite's files under every options byte worth having
for path in sorted(glob.glob("tests/data/*.svm")):
    for opt in (0, 1, 2 | 4):
        put("libsvm", f"{os.path.basename(path)}-{opt}", bytes([opt]) + read(path))
for text, name in ((b"1 1:1e39\n-1 2:1e-320\n", "huge-denormal"),
                   (b"1 4294967295:1\n", "index-near-2^32"),
                   (b"1 1:1\r-1 1:2\r", "cr-only"), (b"1 1:1\0 2:3\n-1 1:2\n", "nul")):
    put("libsvm", name, b"\x01" + text)
for path in sorted(glob.glob("tests/data/*.csv")):
    for opt in (8 | 0x20, 8 | 0x20 | 1, 0x10 | 2 | 4):
        put("csv", f"{os.path.basename(path)}-{opt}", bytes([opt]) + read(path))
for text, name in ((b"1,2,3\r4,5,6\r7,8,9\r", "cr-only"), (b"1,2\0,3\n4,5,6\n", "nul"),
                   (b"1,1e39\n0,1e-320\n", "huge-denormal"), (b"a,b\n", "header-only")):
    put("csv", name, b"\x08" + text)

# IDX: 3 images of 2×2 and their labels; plain, gzipped by the harness, and
# gzip bytes of their own (whole, cut, the 4-byte stream of the issue)
images = struct.pack(">IIII", 0x0803, 3, 2, 2) + bytes(range(0, 240, 20))
labels = struct.pack(">II", 0x0801, 3) + bytes([0, 1, 2])
sep = b"@@LABELS@@"
for opt in (0, 1, 2 | 4, 64, 128, 64 | 128):
    put("idx", f"tiny-{opt}", bytes([opt]) + images + sep + labels)
put("idx", "own-gzip", b"\x00" + gzip.compress(images, mtime=0) + sep + gzip.compress(labels, mtime=0))
put("idx", "cut-gzip", b"\x00" + gzip.compress(images, mtime=0)[:20] + sep + labels)
put("idx", "gzip-4-bytes", b"\x00" + bytes([0x1F, 0x8B, 0x8C, 0xFF]) + sep + labels)
put("idx", "dims-overflow", b"\x00" + struct.pack(">IIII", 0x0803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    + sep + labels)
put("idx", "count-mismatch", b"\x00" + images + sep + struct.pack(">II", 0x0801, 4) + bytes(4))

# checkpoints: records whose lengths point past the end (the harness re-signs)
ckpt = read(f"{ROOT}/checkpoint/a-rank-0.ckpt")
name_len = struct.unpack_from("<I", ckpt, 12)[0]
huge = bytearray(ckpt)
struct.pack_into("<Q", huge, 16 + name_len, 2**64 - 1)
put("checkpoint", "record-size-2^64", bytes(huge))
long_name = bytearray(ckpt)
struct.pack_into("<I", long_name, 12, 0xFFFFFFFF)
put("checkpoint", "name-length-2^32", bytes(long_name))
put("checkpoint", "header-only", ckpt[:12] + struct.pack("<I", 0) + bytes(8))
put("checkpoint", "other-version", ckpt[:8] + struct.pack("<I", 2) + ckpt[12:])

# zmq: frame headers (48 bytes: magic, version, type, run hash, world, src,
# round, slice, offset, length) of the run the harnesses play
def fnv1a(text):
    h = 1469598103934665603
    for c in text.encode():
        h = ((h ^ c) * 1099511628211) % 2**64
    return h


RUN = "cfg-0123456789abcdef"


def header(kind, world=4, src=1, rnd=7, slc=2, offset=1024, length=256, run=RUN, magic=0x4447534C,
           version=1):
    return struct.pack("<IHHQIIIIQQ", magic, version, kind, fnv1a(run), world, src, rnd, slc,
                       offset, length)


SCATTER, HELLO, WELCOME, REFUSE, ABORT = 4, 1, 2, 3, 9
put("zmq_frame", "expected", header(SCATTER) + b"@@PAYLOAD@@" + bytes(1024))
put("zmq_frame", "abort", header(ABORT, offset=0, length=0) + b"@@PAYLOAD@@rank 1 failed")
put("zmq_frame", "other-run", header(SCATTER, run="cfg-x") + b"@@PAYLOAD@@" + bytes(1024))
put("zmq_frame", "short-payload", header(SCATTER) + b"@@PAYLOAD@@" + bytes(1000))
put("zmq_frame", "huge-length", header(SCATTER, length=2**62) + b"@@PAYLOAD@@")
put("zmq_frame", "not-a-header", b"LSGD" + bytes(20) + b"@@PAYLOAD@@")
P = b"@@PART@@"
W = 4 - 1  # the world byte: 1 + b % 16
endpoints = b"tcp://0.0.0.0:5001\n-\ntcp://*:5003\nipc:///tmp/x.1-3"
# a HELLO's length is the joining rank's frame_size, in floats
put("zmq_rendezvous", "hello", bytes([W]) + b"identity" + P + header(HELLO, offset=0, length=1 << 16)
    + P + RUN.encode() + P + endpoints)
put("zmq_rendezvous", "hello-small-frame", bytes([W]) + b"identity" + P
    + header(HELLO, offset=0, length=8) + P + RUN.encode() + P + endpoints)
put("zmq_rendezvous", "hello-other-run", bytes([W]) + b"id" + P + header(HELLO, length=1 << 16)
    + P + b"cfg-other" + P + endpoints)
put("zmq_rendezvous", "hello-rank-0", bytes([W]) + b"id" + P + header(HELLO, src=0, length=1 << 16)
    + P + RUN.encode() + P + endpoints)
put("zmq_rendezvous", "hello-long-line", bytes([W]) + b"id" + P + header(HELLO, length=1 << 16)
    + P + RUN.encode() + P + b"tcp://" + b"a" * 300 + b"\n-\nx\ny")
table = b"\n".join([b"-", b"tcp://10.0.0.1:5001", b"tcp://10.0.0.1:5002", b"tcp://10.0.0.1:5003"]
                   * 4)
put("zmq_rendezvous", "welcome", bytes([W]) + header(WELCOME, src=0, length=1 << 16) + P + table)
put("zmq_rendezvous", "welcome-small-frame", bytes([W]) + header(WELCOME, src=0, length=8) + P
    + table)
put("zmq_rendezvous", "refuse", bytes([W]) + header(REFUSE, run="cfg-x", length=0) + P
    + b"a rank 1 of run 'cfg-x' is not part of run 'cfg-y'")
put("zmq_rendezvous", "abort", bytes([W]) + header(ABORT, length=0) + P + b"timed out")

# CIFAR-10: two records (label, 3072 pixels), one cut short, a label of 10
record = lambda label: bytes([label]) + bytes(i % 256 for i in range(3072))
put("cifar10", "two-records", b"\x00" + record(3) + record(9))
put("cifar10", "two-records-unit-split", b"\x05" + record(0) + record(1))
put("cifar10", "cut-record", b"\x00" + record(3) + record(9)[:100])
put("cifar10", "label-10", b"\x00" + record(10))
