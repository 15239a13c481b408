#!/usr/bin/env python3
"""Your own training set and your own forward matrix for bilearn (docs/user_guide.md, section 6).

    python3 docs/examples/own_data.py A.bin OUT_DIR

A.bin is a forward matrix in PETSc's binary format whose columns are the N*N pixels in natural
order (row-major, row 0 at the top), e.g. written by `bilearn operator --write A.bin`. The
script writes
  OUT_DIR/sparse.bin  a matrix of your own: every second row of A (half the data), in the
                      same format (what -problem matrix -matrix_file reads);
  OUT_DIR/own.h5      a training set in bilearn's HDF5 layout (what -data_file reads): three
                      N x N images of squares and discs and their data y = B x + 1 % noise,
                      B the matrix of sparse.bin.
Needs numpy and h5py (Debian: python3-numpy python3-h5py; scripts/setup.sh installs them, and
tests/cli/own_data.sh runs this script).
"""
import os
import sys

import h5py
import numpy as np

MAT_FILE_CLASSID = 1211216  # PETSc's class id of a matrix in a binary file


def read_petsc_matrix(path):
    """(rows, cols, row_lengths, column_indices, values) of a PETSc binary AIJ matrix."""
    with open(path, "rb") as f:
        classid, rows, cols, nnz = np.fromfile(f, ">i4", 4)
        assert classid == MAT_FILE_CLASSID, "not a PETSc binary matrix"
        lengths = np.fromfile(f, ">i4", rows)
        columns = np.fromfile(f, ">i4", nnz)
        values = np.fromfile(f, ">f8", nnz)
    return int(rows), int(cols), lengths, columns, values


def write_petsc_matrix(path, cols, lengths, columns, values):
    """A sparse matrix in PETSc's binary format: big-endian header (class id, rows, columns,
    nonzeros), the row lengths, the column indices row by row (int32), the values (float64)."""
    with open(path, "wb") as f:
        np.array([MAT_FILE_CLASSID, len(lengths), cols, len(columns)], ">i4").tofile(f)
        np.asarray(lengths, ">i4").tofile(f)
        np.asarray(columns, ">i4").tofile(f)
        np.asarray(values, ">f8").tofile(f)


def matvec(lengths, columns, values, x):
    """y = B x for a matrix in the arrays above (CSR)."""
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return np.array([values[a:b] @ x[columns[a:b]] for a, b in zip(starts[:-1], starts[1:])])


def write_dataset(path, truth, data, data_rows, data_cols, noise, problem):
    """bilearn's HDF5 training set (format bilearn-dataset-1). Attributes are scalars: strings
    (a Python str, which h5py stores as a variable-length string, or np.bytes_, fixed-length),
    integers and reals."""
    n = truth[0].shape[0]
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "bilearn-dataset-1"
        f.attrs["N"] = np.int32(n)
        f.attrs["samples"] = np.int32(len(truth))
        f.attrs["data_size"] = np.int32(data[0].size)
        f.attrs["data_rows"] = np.int32(data_rows)  # the data as a picture: data_rows x data_cols
        f.attrs["data_cols"] = np.int32(data_cols)
        f.attrs["noise"] = np.float64(noise)
        f.attrs["seed"] = np.int32(0)
        f.attrs["phantom"] = "own"
        f.attrs["problem"] = problem
        for s, (x, y) in enumerate(zip(truth, data)):
            f["truth/sample_%03d" % s] = x.reshape(-1)  # natural order: row-major, row 0 at the top
            f["data/sample_%03d" % s] = y


def main():
    matrix, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rows, cols, lengths, columns, values = read_petsc_matrix(matrix)
    n = int(round(cols**0.5))
    assert n * n == cols, "the matrix needs N*N columns"

    # Your own matrix: keep every second row of A.
    starts = np.concatenate([[0], np.cumsum(lengths)])
    keep = range(0, rows, 2)
    sub_lengths = lengths[0::2]
    sub_columns = np.concatenate([columns[starts[r]:starts[r + 1]] for r in keep])
    sub_values = np.concatenate([values[starts[r]:starts[r + 1]] for r in keep])
    write_petsc_matrix(os.path.join(out, "sparse.bin"), cols, sub_lengths, sub_columns, sub_values)

    # Your own images (values in [0, 1]) and their data.
    rng = np.random.default_rng(7)
    i, j = np.mgrid[0:n, 0:n] / n
    truth = [
        ((abs(i - 0.5) < 0.3) & (abs(j - 0.5) < 0.3)) * 0.8,
        ((i - 0.4) ** 2 + (j - 0.6) ** 2 < 0.08) * 1.0 + ((i - 0.7) ** 2 + (j - 0.3) ** 2 < 0.02) * 0.5,
        ((abs(i - 0.3) < 0.15) & (abs(j - 0.3) < 0.2)) * 0.6 + ((i - 0.65) ** 2 + (j - 0.65) ** 2 < 0.04) * 0.9,
    ]
    noise = 0.01
    data = []
    for x in truth:
        clean = matvec(sub_lengths, sub_columns, sub_values, x.reshape(-1))
        e = rng.standard_normal(clean.size)
        data.append(clean + noise * np.linalg.norm(clean) / np.linalg.norm(e) * e)
    write_dataset(os.path.join(out, "own.h5"), truth, data, len(sub_lengths), 1, noise, "matrix (sparse.bin)")
    print("wrote %s/sparse.bin (%d x %d, %d nonzeros) and %s/own.h5 (%d samples, N = %d)"
          % (out, len(sub_lengths), cols, len(sub_columns), out, len(truth), n))


if __name__ == "__main__":
    main()
