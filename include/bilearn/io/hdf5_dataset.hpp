// HDF5 files of training sets, through PETSc's HDF5 viewer. Layout (format
// "bilearn-dataset-1"), identical in content whatever the number of ranks that wrote it:
//
//   /                      attributes
//       format      string  "bilearn-dataset-1"
//       N           int     image side (images are N×N)
//       samples     int     S, number of (truth, data) pairs
//       data_size   int     m, length of one data vector
//       data_rows   int     shape of one data vector as a picture (angles × rays for tomo,
//       data_cols   int       N × N for data on the image grid); data_rows·data_cols = m
//       noise       real    relative noise level σ (‖e‖ ≈ σ‖A x†‖)
//       seed        int     -data_seed the set was generated with
//       phantom     string  phantom family (shepp | ellipses | blocks)
//       problem     string  name of the forward model that made the data
//       tomo_*      real    tomography only: the geometry (tomo_angles, tomo_angle_start,
//                             tomo_angle_range, tomo_rays, tomo_width; fan beam also
//                             tomo_source_distance, tomo_detector_distance), named after the
//                             -tomo_* options; files written before they existed lack them
//   /truth/sample_000 … /truth/sample_<S−1>   1-D real datasets of N·N values: the true
//                          images in natural order (row-major, row 0 at the top)
//   /data/sample_000  … /data/sample_<S−1>    1-D real datasets of m values: the noisy data
//                          in natural order (image order for data on the grid, ray order
//                          angle-major for tomography, row order for user matrices)
//
// In Python: f = h5py.File(F); x = f["truth/sample_000"][:].reshape(N, N). The layout, the
// ordering and the units are documented in docs/data_format.md.
// This layer knows nothing of grids or operators: it moves natural-order Vecs and checks
// what can be checked from the file alone (existence, sizes, finite values).
#pragma once
#include <petscvec.h>
#include <petscviewerhdf5.h>

#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn {

struct DatasetHeader {
  PetscInt n = 0;
  PetscInt samples = 0;
  PetscInt data_size = 0;
  PetscInt data_rows = 0;
  PetscInt data_cols = 0;
  PetscReal noise = 0.0;
  PetscInt seed = 0;
  std::string phantom;
  std::string problem;
  std::vector<std::pair<std::string, PetscReal>> geometry;  // tomo_* attributes (write only)
};

// "sample_000", "sample_001", … (at least three digits).
std::string sample_dataset_name(PetscInt sample);

class Hdf5DatasetFile {
 public:
  enum class Mode { read, write };
  // Opens path collectively. read: a missing file or one that is not HDF5 is an InputError
  // naming it; write: creates or truncates, an unwritable path is an InputError.
  Hdf5DatasetFile(MPI_Comm comm, const std::string& path, Mode mode);
  ~Hdf5DatasetFile();
  Hdf5DatasetFile(const Hdf5DatasetFile&) = delete;
  Hdf5DatasetFile& operator=(const Hdf5DatasetFile&) = delete;

  const std::string& path() const noexcept { return path_; }

  void write_header(const DatasetHeader& header);
  // Missing attributes or impossible values are InputErrors naming the file and attribute.
  DatasetHeader read_header();
  // A real attribute of the root that may be missing (returns false then).
  bool read_optional_real(const std::string& name, PetscReal* value);

  // Writes v (natural order) as /<group>/<name>. Collective.
  void write_vec(const std::string& group, const std::string& name, Vec v);
  // Reads /<group>/<name> into v (sizes already set, natural order). A missing dataset, a
  // size different from v's or a NaN/Inf value is an InputError naming file and dataset.
  void read_vec(const std::string& group, const std::string& name, Vec v);

 private:
  MPI_Comm comm_;
  std::string path_;
  OwnedViewer viewer_;
  // HDF5's automatic error printing, switched off while the file is open (our errors are
  // one line) and restored afterwards.
  H5E_auto2_t saved_error_func_ = nullptr;
  void* saved_error_data_ = nullptr;
};

}  // namespace bilearn
