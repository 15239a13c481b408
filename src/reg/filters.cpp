#include "bilearn/reg/filters.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "bilearn/core/error.hpp"

namespace bilearn {

FilterBank dct_filter_bank(PetscInt side) {
  FilterBank bank;
  bank.side = side;
  bank.count = side * side - 1;
  std::vector<PetscReal> u(static_cast<size_t>(side * side));  // u[p·k + a] = u_p(a)
  for (PetscInt p = 0; p < side; ++p)
    for (PetscInt a = 0; a < side; ++a) {
      const PetscReal alpha = std::sqrt((p == 0 ? 1.0 : 2.0) / side);
      u[static_cast<size_t>(p * side + a)] = alpha * std::cos(PETSC_PI * (2 * a + 1) * p / (2.0 * side));
    }
  bank.coeffs.reserve(static_cast<size_t>(bank.count * side * side));
  bank.basis = u;
  for (PetscInt p = 0; p < side; ++p)
    for (PetscInt q = 0; q < side; ++q) {
      if (p == 0 && q == 0) continue;
      bank.pairs.push_back(p);
      bank.pairs.push_back(q);
      for (PetscInt a = 0; a < side; ++a)
        for (PetscInt b = 0; b < side; ++b)
          bank.coeffs.push_back(u[static_cast<size_t>(p * side + a)] * u[static_cast<size_t>(q * side + b)]);
    }
  return bank;
}

namespace {
// Parses the file; returns an error message (empty on success).
std::string parse_filter_file(const std::string& path, PetscInt max_side, FilterBank& bank) {
  std::ifstream in(path);
  if (!in) return "cannot open filter file '" + path + "' (-reg_foe_filter_file)";
  std::stringstream text;
  std::string line;
  while (std::getline(in, line)) text << line.substr(0, line.find('#')) << '\n';
  long long count = 0, side = 0;
  if (!(text >> count >> side)) return "filter file '" + path + "' must start with \"K k\" (filters, side)";
  if (count < 1 || side < 1 || side % 2 == 0 || side > max_side)
    return "filter file '" + path + "': need K ≥ 1 filters of odd side k ≤ " + std::to_string(max_side) +
           ", got K = " + std::to_string(count) + ", k = " + std::to_string(side);
  const long long needed = count * side * side;
  std::vector<PetscReal> c;
  std::string token;
  while (text >> token) {
    char* end = nullptr;
    const double v = std::strtod(token.c_str(), &end);
    if (end == token.c_str() || *end != '\0' || !std::isfinite(v))
      return "filter file '" + path + "': '" + token + "' is not a finite number";
    c.push_back(v);
  }
  if (static_cast<long long>(c.size()) != needed)
    return "filter file '" + path + "' has " + std::to_string(c.size()) + " coefficients, " + std::to_string(count) +
           " filters of " + std::to_string(side) + "x" + std::to_string(side) + " need " + std::to_string(needed);
  bank.count = static_cast<PetscInt>(count);
  bank.side = static_cast<PetscInt>(side);
  bank.coeffs = std::move(c);
  return "";
}
}  // namespace

FilterBank read_filter_file(MPI_Comm comm, const std::string& path, PetscInt max_side) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  FilterBank bank;
  std::string error;
  if (rank == 0) error = parse_filter_file(path, max_side, bank);
  // Broadcast the verdict first, then the data, so every rank throws the same error.
  long long header[3] = {static_cast<long long>(error.size()), bank.count, bank.side};
  MPI_Bcast(header, 3, MPI_LONG_LONG, 0, comm);
  if (header[0] > 0) {
    error.resize(static_cast<size_t>(header[0]));
    MPI_Bcast(error.data(), static_cast<int>(header[0]), MPI_CHAR, 0, comm);
    throw InputError(error);
  }
  bank.count = static_cast<PetscInt>(header[1]);
  bank.side = static_cast<PetscInt>(header[2]);
  bank.coeffs.resize(static_cast<size_t>(bank.count * bank.side * bank.side));
  MPI_Bcast(bank.coeffs.data(), static_cast<int>(bank.coeffs.size()), MPIU_REAL, 0, comm);
  return bank;
}

}  // namespace bilearn
