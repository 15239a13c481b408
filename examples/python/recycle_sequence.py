#!/usr/bin/python3
"""bilearn's recycling MINRES from Python, without new bindings.

Debian's python3-petsc4py loads libbilearn.so as a PETSc plug-in (-dll_append), which
registers the KSP types rminres and rcg; from then on they are ordinary PETSc KSP types:
ksp.setType('rminres'). This script solves a sequence of slowly changing symmetric positive
definite systems

    A_t x = b_t,   A_t = L + D_t   (t = 0, 1, ..., T-1)

with L the 2-D 5-point Laplacian on an n x n grid (Dirichlet boundary, unit spacing) and D_t a
small positive diagonal that drifts with t, once with plain MINRES and once with rminres,
which carries a recycle space (approximate eigenvectors of the smallest eigenvalues) from
one system to the next, and prints the iterations side by side.

usage:
  /usr/bin/python3 examples/python/recycle_sequence.py --lib build/libbilearn.so [--n 48]
      [--systems 8] [--rtol 1e-8] [PETSc options, e.g. -rminres_ksp_recycle_k 10]
  mpiexec -n 2 /usr/bin/python3 examples/python/recycle_sequence.py --lib build/libbilearn.so

The two KSPs have the option prefixes minres_ and rminres_ (-rminres_ksp_recycle_k k,
-rminres_ksp_recycle_select s, -rminres_ksp_monitor, ...). Exits 2 if petsc4py or the
plug-in cannot be loaded, 1 if a solve does not converge, 0 otherwise.
"""
import argparse
import math
import os
import sys


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lib", required=True, help="path to libbilearn.so")
    parser.add_argument("--n", type=int, default=48, help="grid side (the systems have n*n unknowns)")
    parser.add_argument("--systems", type=int, default=8, help="number of systems in the sequence")
    parser.add_argument("--rtol", type=float, default=1e-8, help="relative residual tolerance")
    return parser.parse_known_args()


def load_petsc(lib, petsc_args):
    if not os.path.isfile(lib):
        print("error: %s does not exist: build bilearn first (--lib build/libbilearn.so)" % lib, file=sys.stderr)
        sys.exit(2)
    try:
        import petsc4py
    except ImportError:
        print("error: petsc4py is missing: install Debian's python3-petsc4py (scripts/setup.sh) "
              "and run this script with /usr/bin/python3", file=sys.stderr)
        sys.exit(2)
    petsc4py.init([sys.argv[0], "-dll_append", lib] + petsc_args)
    from petsc4py import PETSc
    return PETSc


def shift(t, x, y):
    """Diagonal D_t at the grid point (x, y) in [0, 1]^2: positive, drifting slowly with t."""
    return 2e-3 * (1.0 + 0.5 * math.sin(2 * math.pi * x + 0.15 * t) * math.cos(math.pi * y))


def build_matrix(PETSc, n, t):
    A = PETSc.Mat().createAIJ([n * n, n * n], nnz=(5, 4), comm=PETSc.COMM_WORLD)
    start, end = A.getOwnershipRange()
    for row in range(start, end):
        i, j = divmod(row, n)
        A.setValue(row, row, 4.0 + shift(t, j / (n - 1), i / (n - 1)))
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            if 0 <= i + di < n and 0 <= j + dj < n:
                A.setValue(row, (i + di) * n + (j + dj), -1.0)
    A.assemble()
    return A


def build_rhs(A, n, t):
    b = A.createVecLeft()
    start, end = b.getOwnershipRange()
    for row in range(start, end):
        i, j = divmod(row, n)
        b.setValue(row, 1.0 + math.sin(3 * math.pi * j / n + 0.1 * t) * math.cos(2 * math.pi * i / n))
    b.assemble()
    return b


def error(PETSc, message):
    if PETSc.COMM_WORLD.getRank() == 0:
        print("error: " + message, file=sys.stderr)


def make_ksp(PETSc, kind, rtol):
    ksp = PETSc.KSP().create(comm=PETSc.COMM_WORLD)
    ksp.setOptionsPrefix(kind + "_")
    ksp.setType(kind)  # 'rminres' exists only because -dll_append loaded libbilearn
    ksp.getPC().setType("none")
    ksp.setTolerances(rtol=rtol, atol=0.0, max_it=10000)
    ksp.setFromOptions()
    return ksp


def main():
    args, petsc_args = parse()
    PETSc = load_petsc(args.lib, petsc_args)
    print_ = PETSc.Sys.Print
    kinds = ("minres", "rminres")
    try:
        ksps = {kind: make_ksp(PETSc, kind, args.rtol) for kind in kinds}
    except PETSc.Error as e:
        error(PETSc, "cannot create a KSP of type rminres (was %s loaded as a plug-in?): %s" % (args.lib, e))
        sys.exit(2)
    print_("%d systems A_t = L + D_t, n = %d (%d unknowns), rtol %g, %d rank(s)"
           % (args.systems, args.n, args.n * args.n, args.rtol, PETSc.COMM_WORLD.getSize()))
    print_("KSP types: %s (plain MINRES) and %s (recycled MINRES from the plug-in), no preconditioner"
           % (ksps["minres"].getType(), ksps["rminres"].getType()))
    print_("%6s %10s %10s %10s" % ("system", "minres", "rminres", "ratio"))
    totals = {kind: 0 for kind in kinds}
    failed = False
    for t in range(args.systems):
        A = build_matrix(PETSc, args.n, t)
        b = build_rhs(A, args.n, t)
        its = {}
        for kind in kinds:
            ksp = ksps[kind]
            x = A.createVecRight()
            ksp.setOperators(A)
            ksp.solve(b, x)
            its[kind] = ksp.getIterationNumber()
            if ksp.getConvergedReason() <= 0:
                error(PETSc, "%s did not converge on system %d (reason %d)" % (kind, t, ksp.getConvergedReason()))
                failed = True
            if t > 0:
                totals[kind] += its[kind]
        print_("%6d %10d %10d %10.2f" % (t, its["minres"], its["rminres"], its["rminres"] / max(its["minres"], 1)))
    ratio = totals["rminres"] / max(totals["minres"], 1)
    print_("total after the first system: minres %d rminres %d ratio %.2f"
           % (totals["minres"], totals["rminres"], ratio))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
