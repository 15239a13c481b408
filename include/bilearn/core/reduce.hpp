// Small collective helpers for verdicts and diagnostics.
#pragma once
#include <mpi.h>

namespace bilearn {

// True on every rank if cond holds on every rank. Collective.
inline bool all_ranks(MPI_Comm comm, bool cond) {
  int local = cond ? 1 : 0, all = 0;
  MPI_Allreduce(&local, &all, 1, MPI_INT, MPI_MIN, comm);
  return all == 1;
}

inline double max_over_ranks(MPI_Comm comm, double value) {
  double out = value;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, comm);
  return out;
}

inline double sum_over_ranks(MPI_Comm comm, double value) {
  double out = value;
  MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_SUM, comm);
  return out;
}

}  // namespace bilearn
