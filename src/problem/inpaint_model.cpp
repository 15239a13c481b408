// Inpainting: A = diag(m) with a 0/1 pixel mask m (1 = pixel observed), assembled as
// MATMPIAIJ with one entry per kept pixel (rows of dropped pixels are empty), rows and
// columns in the grid's PETSc ordering.
//
// Options: -inpaint_fraction f  fraction of pixels kept (default 0.5), in [0, 1]
//          -inpaint_seed s      seed of the random mask (default 1)
//          -inpaint_mask_file F the mask instead: a PETSc binary Vec of N² values 0/1 in
//                               natural order
// The random mask keeps pixel k (natural index) iff u_k ≤ f, u_k ∈ (0, 1] a counter-based
// hash of (seed, k): the same mask on any number of ranks.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/problem/noise.hpp"
#include "bilearn/problem/operators.hpp"

namespace bilearn {
namespace {

// Stream of the mask's random numbers (distinct from the data streams purpose + 4·sample
// of noise.hpp, which use purposes 0 and 1 only in the low bits).
constexpr std::uint64_t mask_stream = 0x696e7061696e74ULL;  // "inpaint"

struct InpaintOptions {
  PetscReal fraction = 0.5;
  PetscInt seed = 1;
  std::string mask_file;
};

InpaintOptions read_inpaint_options(MPI_Comm comm) {
  InpaintOptions o;
  OptionsBlock block(comm, "", "Inpainting forward model (-problem inpaint)");
  o.fraction = block.real("-inpaint_fraction", "fraction of pixels kept by the random mask", o.fraction, 0, 1);
  o.seed = block.integer("-inpaint_seed", "seed of the random mask", o.seed, 0);
  o.mask_file = block.string("-inpaint_mask_file", "mask file (PETSc binary Vec, N*N values 0/1, natural order)", "");
  return o;
}

// Rank 0 checks that path is a PETSc binary Vec of `size` doubles; every rank gets the
// verdict (an empty string if the file is fine, else the reason). Collective.
std::string check_mask_file(MPI_Comm comm, const std::string& path, PetscInt size) {
  PetscMPIInt rank = 0;
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  char reason[PETSC_MAX_PATH_LEN + 256] = "";
  if (rank == 0) {
    std::ifstream in(path, std::ios::binary);
    unsigned char header[8] = {};
    if (!in) {
      std::snprintf(reason, sizeof(reason), "cannot open mask file '%s'", path.c_str());
    } else if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) {
      std::snprintf(reason, sizeof(reason), "mask file '%s' is not a PETSc binary vector (too short)", path.c_str());
    } else {
      auto be32 = [&](int k) {  // PETSc binary files are big-endian
        return static_cast<std::int32_t>(std::uint32_t(header[4 * k]) << 24 | std::uint32_t(header[4 * k + 1]) << 16 |
                                         std::uint32_t(header[4 * k + 2]) << 8 | std::uint32_t(header[4 * k + 3]));
      };
      in.seekg(0, std::ios::end);
      const long long bytes = static_cast<long long>(in.tellg());
      if (be32(0) != VEC_FILE_CLASSID)
        std::snprintf(reason, sizeof(reason), "mask file '%s' is not a PETSc binary vector", path.c_str());
      else if (be32(1) != size)
        std::snprintf(reason, sizeof(reason), "mask file '%s' has %d values, the grid has %lld pixels", path.c_str(),
                      (int)be32(1), static_cast<long long>(size));
      else if (bytes != 8 + 8LL * size)
        std::snprintf(reason, sizeof(reason), "mask file '%s' is truncated or corrupt (%lld bytes, expected %lld)",
                      path.c_str(), bytes, 8 + 8LL * size);
    }
  }
  BILEARN_CHECK(MPI_Bcast(reason, sizeof(reason), MPI_CHAR, 0, comm));
  return reason;
}

// The mask as a grid vector (values 0/1).
OwnedVec random_mask(const ImageGrid& grid, const InpaintOptions& o) {
  OwnedVec mask = grid.create_vec();
  const std::vector<PetscInt> natural = grid.local_natural_indices();
  VecArray m(mask);
  for (size_t i = 0; i < natural.size(); ++i) {
    const double u = uniform_from_bits(
        counter_hash(static_cast<std::uint64_t>(o.seed), mask_stream, static_cast<std::uint64_t>(natural[i])));
    m[static_cast<PetscInt>(i)] = u <= o.fraction ? 1.0 : 0.0;
  }
  return mask;
}

OwnedVec mask_from_file(const ImageGrid& grid, const std::string& path) {
  const MPI_Comm comm = grid.comm();
  const std::string problem = check_mask_file(comm, path, grid.pixels());
  require(problem.empty(), problem);
  OwnedVec natural;
  BILEARN_CHECK(DMDACreateNaturalVector(grid.dm(), natural.out()));
  try {
    OwnedViewer viewer = open_binary_viewer(comm, path, FILE_MODE_READ);
    BILEARN_CHECK(VecLoad(natural, viewer));
  } catch (const PetscFailure& e) {
    throw InputError("cannot read mask file '" + path + "': " + e.what());
  }
  bool binary = true;
  {
    PetscInt n = 0;
    BILEARN_CHECK(VecGetLocalSize(natural, &n));
    ConstVecArray a(natural);
    for (PetscInt i = 0; i < n; ++i) binary = binary && (a[i] == 0.0 || a[i] == 1.0);
  }
  require(all_ranks(comm, binary), "mask file '" + path + "' must hold only the values 0 and 1");
  OwnedVec mask = grid.create_vec();
  BILEARN_CHECK(DMDANaturalToGlobalBegin(grid.dm(), natural, INSERT_VALUES, mask));
  BILEARN_CHECK(DMDANaturalToGlobalEnd(grid.dm(), natural, INSERT_VALUES, mask));
  return mask;
}

}  // namespace

ForwardModel create_inpaint_model(const ImageGrid& grid) {
  const InpaintOptions options = read_inpaint_options(grid.comm());
  const OwnedVec mask =
      options.mask_file.empty() ? random_mask(grid, options) : mask_from_file(grid, options.mask_file);

  const PetscInt local = grid.local_size(), begin = grid.ownership_start();
  ForwardModel model;
  log::ScopedEvent event(log::events().operator_assembly);
  BILEARN_CHECK(MatCreate(grid.comm(), model.A.out()));
  BILEARN_CHECK(MatSetSizes(model.A, local, local, grid.pixels(), grid.pixels()));
  BILEARN_CHECK(MatSetType(model.A, MATMPIAIJ));
  {
    ConstVecArray m(mask);
    std::vector<PetscInt> d_nnz(static_cast<size_t>(local));
    for (PetscInt i = 0; i < local; ++i) d_nnz[static_cast<size_t>(i)] = m[i] != 0.0 ? 1 : 0;
    BILEARN_CHECK(MatMPIAIJSetPreallocation(model.A, 0, d_nnz.data(), 0, nullptr));
    BILEARN_CHECK(MatSetOption(model.A, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
    BILEARN_CHECK(MatSetOption(model.A, MAT_NO_OFF_PROC_ENTRIES, PETSC_TRUE));
    const PetscScalar one = 1.0;
    for (PetscInt i = 0; i < local; ++i) {
      const PetscInt row = begin + i;
      if (m[i] != 0.0) BILEARN_CHECK(MatSetValues(model.A, 1, &row, 1, &row, &one, INSERT_VALUES));
    }
  }
  BILEARN_CHECK(MatAssemblyBegin(model.A, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(model.A, MAT_FINAL_ASSEMBLY));
  event.end();

  char name[PETSC_MAX_PATH_LEN + 64];
  if (options.mask_file.empty())
    std::snprintf(name, sizeof(name), "inpaint (random mask, fraction %g kept, seed %lld)", (double)options.fraction,
                  static_cast<long long>(options.seed));
  else
    std::snprintf(name, sizeof(name), "inpaint (mask file %s)", options.mask_file.c_str());
  set_data_on_grid(model, grid, name);
  model.circulant_kernel = "diagonal";  // a mask (or anything) is not close to a convolution
  return model;
}

}  // namespace bilearn
