"""The checkpoint checksum of outer/state_codec.cpp, for the CLI tests that inspect or forge
checkpoint manifests (lib_reliability.sh, train_resume.sh)."""
import json
import struct


def checksum(data, h=1469598103934665603):
    prime, mask = 1099511628211, (1 << 64) - 1
    i = 0
    while i + 8 <= len(data):
        h = ((h ^ struct.unpack_from("<Q", data, i)[0]) * prime) & mask
        h ^= h >> 29
        i += 8
    for b in data[i:]:
        h = ((h ^ b) * prime) & mask
    return h


def manifest_checksum(files):
    """The manifest_checksum field of MANIFEST.json: over its file list in canonical JSON."""
    return "%016x" % checksum(json.dumps(files, separators=(",", ":"), sort_keys=True).encode())
