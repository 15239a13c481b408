// `bilearn bench recycle-synthetic`: cost of recycling on a synthetic sequence (2-D Laplacian
// N×N on a DMDA plus a slowly changing random diagonal): time per iteration of rminres/rcg at
// k against KSPMINRES/KSPCG, with the loop alone (frozen space) and with the space update, and
// total iterations and wall time over the sequence, warm started. Prints a table; --json FILE.
#pragma once
#include "bilearn/app/command_line.hpp"

namespace bilearn {

int bench_recycle_synthetic(const CommandLine& cl);

}  // namespace bilearn
