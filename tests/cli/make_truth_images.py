#!/usr/bin/python3
"""Ground-truth image files for tests/cli/truth_dir.sh, written with the standard library only
(zlib, struct): greyscale PNG (8/16-bit) and baseline TIFF (8/16-bit, little- and big-endian,
stripped and tiled, uncompressed), plus the bad files the error tests need.

usage:
  make_truth_images.py good DIR N          five N x N images 000_... 004_... (PNG and TIFF)
  make_truth_images.py check DIR N RAW...  RAW[s] (little-endian doubles, e.g. from
                                           h5dump -b LE) must equal image s of `good` scaled
                                           by bilearn's rule g / (2^bits - 1); exit 1 if not
  make_truth_images.py bad KIND FILE N     one bad file: notpng, truncated_png, truncated_tiff,
                                           tiff_header, colour_png, colour_tiff, float_tiff, grey4_png
"""
import struct
import sys
import zlib

# (name, format, bits, byte order, layout) of the `good` images, in the order bilearn reads them;
# layout: PNG interlaced (Adam7) or TIFF tiled.
GOOD = [
    ("000_png8.png", "png", 8, ">", False),
    ("001_png16_interlaced.png", "png", 16, ">", True),
    ("002_tiff16_le.tif", "tiff", 16, "<", False),
    ("003_tiff16_be_tiled.tiff", "tiff", 16, ">", True),
    ("004_tiff8.TIF", "tiff", 8, "<", False),
]


def levels(sample, n, bits):
    """A deterministic pattern of stored levels that reaches 0 and the maximum 2^bits - 1."""
    top = (1 << bits) - 1
    out = []
    for r in range(n):
        row = []
        for c in range(n):
            row.append((r * 7919 + c * 104729 + sample * 1299709 + (r * c) % 13 * 15485863) % (top + 1))
        out.append(row)
    out[0][0] = 0
    out[0][1] = top
    return out


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# Adam7 passes: (first column, first row, column step, row step).
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(rows, bits, colour=False, interlaced=False):
    height, width = len(rows), len(rows[0])
    if bits not in (8, 16):
        raise ValueError("png_bytes packs 8 or 16 bits")
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        if x0 >= width or y0 >= height:
            continue  # an empty pass has no rows at all
        for r in range(y0, height, dy):
            raw.append(0)  # filter type None
            for c in range(x0, width, dx):
                g = rows[r][c]
                raw += (struct.pack(">H", g) if bits == 16 else bytes([g])) * (3 if colour else 1)
    ihdr = struct.pack(">IIBBBBB", width, height, bits, 2 if colour else 0, 0, 0, 1 if interlaced else 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(raw))) +
            png_chunk(b"IEND", b""))


def png_grey4_bytes(n):
    """A 4-bit greyscale PNG (a depth bilearn refuses)."""
    raw = bytearray()
    for _ in range(n):
        raw.append(0)
        raw += bytes((n + 1) // 2)
    ihdr = struct.pack(">IIBBBBB", n, n, 4, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(raw))) +
            png_chunk(b"IEND", b""))


def tiff_bytes(rows, bits, order, tiled, samples_per_pixel=1, sample_format=1):
    """Baseline uncompressed TIFF: strips of 5 rows, or 16 x 16 tiles (partial at the edges)."""
    height, width = len(rows), len(rows[0])
    pack_sample = (lambda g: struct.pack(order + "H", g)) if bits == 16 else (lambda g: bytes([g]))

    def pixel(r, c):
        return pack_sample(rows[r][c]) * samples_per_pixel

    blocks = []
    if tiled:
        tile = 16
        for y in range(0, height, tile):
            for x in range(0, width, tile):
                block = bytearray()
                for r in range(y, y + tile):
                    for c in range(x, x + tile):
                        block += pixel(r, c) if r < height and c < width else pack_sample(0) * samples_per_pixel
                blocks.append(bytes(block))
    else:
        per_strip = 5
        for y in range(0, height, per_strip):
            blocks.append(b"".join(pixel(r, c) for r in range(y, min(y + per_strip, height)) for c in range(width)))

    def ifd_entries(offsets, counts):  # (tag, type, count, values): type 3 = SHORT, 4 = LONG
        e = [(256, 4, 1, [width]), (257, 4, 1, [height]), (258, 3, samples_per_pixel, [bits] * samples_per_pixel),
             (259, 3, 1, [1]),  # no compression
             (262, 3, 1, [2 if samples_per_pixel == 3 else 1]),  # RGB or MinIsBlack
             (277, 3, 1, [samples_per_pixel]), (284, 3, 1, [1]),  # chunky
             (339, 3, samples_per_pixel, [sample_format] * samples_per_pixel)]
        if tiled:
            e += [(322, 3, 1, [16]), (323, 3, 1, [16]), (324, 4, len(offsets), offsets), (325, 4, len(counts), counts)]
        else:
            e += [(273, 4, len(offsets), offsets), (278, 4, 1, [5]), (279, 4, len(counts), counts)]
        return sorted(e)

    def pack_ifd(entries, ifd_offset):
        """The IFD (at ifd_offset) followed by its out-of-line values."""
        ifd_size = 2 + 12 * len(entries) + 4
        ifd, extra = bytearray(struct.pack(order + "H", len(entries))), bytearray()
        for tag, kind, count, values in entries:
            code = "H" if kind == 3 else "I"
            packed = b"".join(struct.pack(order + code, v) for v in values)
            if len(packed) <= 4:
                ifd += struct.pack(order + "HHI", tag, kind, count) + packed + b"\0" * (4 - len(packed))
            else:
                ifd += struct.pack(order + "HHII", tag, kind, count, ifd_offset + ifd_size + len(extra))
                extra += packed
        ifd += struct.pack(order + "I", 0)  # no next IFD
        return bytes(ifd + extra)

    # Header, then the IFD, then the pixel data (so a file cut short loses pixels, not the IFD).
    counts = [len(b) for b in blocks]
    directory_size = len(pack_ifd(ifd_entries([0] * len(blocks), counts), 8))
    data_start = 8 + directory_size
    offsets, at = [], data_start
    for block in blocks:
        offsets.append(at)
        at += len(block)
    magic = b"II" if order == "<" else b"MM"
    return magic + struct.pack(order + "HI", 42, 8) + pack_ifd(ifd_entries(offsets, counts), 8) + b"".join(blocks)


def image_bytes(sample, n, kind, bits, order, layout):
    rows = levels(sample, n, bits)
    return png_bytes(rows, bits, interlaced=layout) if kind == "png" else tiff_bytes(rows, bits, order, layout)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def good(directory, n):
    for s, (name, kind, bits, order, layout) in enumerate(GOOD):
        write(f"{directory}/{name}", image_bytes(s, n, kind, bits, order, layout))


def check(directory, n, raws):
    if len(raws) != len(GOOD):
        print(f"check: {len(raws)} raw files for {len(GOOD)} images", file=sys.stderr)
        return 1
    bad = 0
    for s, ((name, _, bits, _, _), raw) in enumerate(zip(GOOD, raws)):
        data = open(raw, "rb").read()
        if len(data) != 8 * n * n:
            print(f"check: {raw} holds {len(data)} bytes, expected {8 * n * n}", file=sys.stderr)
            return 1
        values = struct.unpack("<%dd" % (n * n), data)
        top = (1 << bits) - 1
        expected = [g / top for row in levels(s, n, bits) for g in row]
        wrong = sum(1 for a, b in zip(values, expected) if a != b)
        if wrong:
            k = next(i for i, (a, b) in enumerate(zip(values, expected)) if a != b)
            print(f"check: sample {s} ({name}): {wrong} values differ, first at {k}: {values[k]!r} != {expected[k]!r}",
                  file=sys.stderr)
            bad += 1
        else:
            print(f"ok: sample {s} ({name}, {bits}-bit) reads back as g/{top}")
    return 1 if bad else 0


def bad(kind, path, n):
    rows8 = levels(0, n, 8)
    if kind == "notpng":
        write(path, b"this is a text file, not an image\n")
    elif kind == "truncated_png":
        data = png_bytes(levels(0, n, 16), 16)
        write(path, data[: len(data) // 2])
    elif kind == "truncated_tiff":
        data = tiff_bytes(levels(0, n, 16), 16, "<", False)
        write(path, data[: len(data) * 2 // 3])  # the directory is intact, the last strips are cut
    elif kind == "tiff_header":
        write(path, tiff_bytes(rows8, 8, "<", False)[:20])  # the directory is cut
    elif kind == "colour_png":
        write(path, png_bytes(rows8, 8, colour=True))
    elif kind == "colour_tiff":
        write(path, tiff_bytes(rows8, 8, "<", False, samples_per_pixel=3))
    elif kind == "float_tiff":
        write(path, tiff_bytes(levels(0, n, 16), 16, "<", False, sample_format=3))
    elif kind == "grey4_png":
        write(path, png_grey4_bytes(n))
    else:
        print(f"unknown bad kind {kind}", file=sys.stderr)
        return 2
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "good":
        good(argv[2], int(argv[3]))
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        return check(argv[2], int(argv[3]), argv[4:])
    if len(argv) == 5 and argv[1] == "bad":
        return bad(argv[2], argv[3], int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
