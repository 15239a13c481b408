#include "bilearn/io/hdf5_dataset.hpp"

#include <petsclayouthdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/reduce.hpp"
#include "io/hdf5_attributes.hpp"

namespace bilearn {
namespace {

constexpr const char* format_name = "bilearn-dataset-1";

// Pushes an HDF5 group on the viewer for the lifetime of the object.
class GroupScope {
 public:
  GroupScope(PetscViewer viewer, const std::string& group) : viewer_(viewer) {
    BILEARN_CHECK(PetscViewerHDF5PushGroup(viewer_, group.c_str()));
  }
  ~GroupScope() { PetscViewerHDF5PopGroup(viewer_); }
  GroupScope(const GroupScope&) = delete;
  GroupScope& operator=(const GroupScope&) = delete;

 private:
  PetscViewer viewer_;
};

// The io log stage and event for the lifetime of the object.
struct IoScope {
  log::ScopedStage stage{log::stages().io};
  log::ScopedEvent event{log::events().io};
};

// Rank 0 examines the path; every rank learns the verdict (0: fine).
int probe_path(MPI_Comm comm, const std::string& path, Hdf5DatasetFile::Mode mode) {
  int rank = 0, verdict = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    if (mode == Hdf5DatasetFile::Mode::read) {
      if (access(path.c_str(), R_OK) != 0)
        verdict = 1;
      else if (H5Fis_hdf5(path.c_str()) <= 0)
        verdict = 2;
    } else {
      std::ofstream probe(path, std::ios::binary | std::ios::trunc);
      if (!probe) verdict = 3;
    }
  }
  MPI_Bcast(&verdict, 1, MPI_INT, 0, comm);
  return verdict;
}

}  // namespace

std::string sample_dataset_name(PetscInt sample) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "sample_%03lld", static_cast<long long>(sample));
  return buffer;
}

Hdf5DatasetFile::Hdf5DatasetFile(MPI_Comm comm, const std::string& path, Mode mode) : comm_(comm), path_(path) {
  H5Eget_auto2(H5E_DEFAULT, &saved_error_func_, &saved_error_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  try {
    switch (probe_path(comm, path, mode)) {
      case 1:
        throw InputError("data set file '" + path + "' does not exist or cannot be read");
      case 2:
        throw InputError("data set file '" + path + "' is not an HDF5 file");
      case 3:
        throw InputError("cannot write data set file '" + path + "'");
      default:
        break;
    }
    try {
      BILEARN_CHECK(PetscViewerHDF5Open(comm, path.c_str(), mode == Mode::read ? FILE_MODE_READ : FILE_MODE_WRITE,
                                        viewer_.out()));
    } catch (const PetscFailure&) {
      // An HDF5 signature with a damaged body: HDF5 itself refuses to open it (it checks the
      // file's end against the superblock).
      throw InputError("data set file '" + path + "' cannot be " +
                       (mode == Mode::read ? "read: a damaged or truncated HDF5 file" : "written"));
    }
  } catch (...) {
    viewer_.reset();  // destroying a half-opened viewer makes HDF5 complain: still silenced here
    H5Eset_auto2(H5E_DEFAULT, saved_error_func_, saved_error_data_);
    throw;
  }
}

Hdf5DatasetFile::~Hdf5DatasetFile() {
  viewer_.reset();
  H5Eset_auto2(H5E_DEFAULT, saved_error_func_, saved_error_data_);
}

void Hdf5DatasetFile::write_header(const DatasetHeader& h) {
  auto write_int = [&](const char* name, PetscInt value) {
    BILEARN_CHECK(PetscViewerHDF5WriteAttribute(viewer_, "/", name, PETSC_INT, &value));
  };
  auto write_string = [&](const char* name, const std::string& value) {
    BILEARN_CHECK(PetscViewerHDF5WriteAttribute(viewer_, "/", name, PETSC_STRING, value.c_str()));
  };
  write_string("format", format_name);
  write_int("N", h.n);
  write_int("samples", h.samples);
  write_int("data_size", h.data_size);
  write_int("data_rows", h.data_rows);
  write_int("data_cols", h.data_cols);
  BILEARN_CHECK(PetscViewerHDF5WriteAttribute(viewer_, "/", "noise", PETSC_REAL, &h.noise));
  write_int("seed", h.seed);
  write_string("phantom", h.phantom);
  write_string("problem", h.problem);
  for (const auto& [name, value] : h.geometry)
    BILEARN_CHECK(PetscViewerHDF5WriteAttribute(viewer_, "/", name.c_str(), PETSC_REAL, &value));
}

bool Hdf5DatasetFile::read_optional_real(const std::string& name, PetscReal* value) {
  PetscBool has = PETSC_FALSE;
  BILEARN_CHECK(PetscViewerHDF5HasAttribute(viewer_, "/", name.c_str(), &has));
  if (!has) return false;
  hid_t file;
  BILEARN_CHECK(PetscViewerHDF5GetFileId(viewer_, &file));
  *value = read_real_attribute(file, path_, "/", name.c_str());
  return true;
}

// The attributes are read with the HDF5 C API (io/hdf5_attributes.hpp), not PETSc's viewer, which
// reads fixed-length strings only: h5py writes a Python str as a variable-length string.
DatasetHeader Hdf5DatasetFile::read_header() {
  hid_t file;
  BILEARN_CHECK(PetscViewerHDF5GetFileId(viewer_, &file));
  auto require_attribute = [&](const char* name) {
    PetscBool has = PETSC_FALSE;
    BILEARN_CHECK(PetscViewerHDF5HasAttribute(viewer_, "/", name, &has));
    require(has, "data set file '" + path_ + "' has no attribute '" + name + "' (not a bilearn data set?)");
  };
  auto read_int = [&](const char* name, PetscInt min) {
    require_attribute(name);
    const PetscInt value = read_int_attribute(file, path_, "/", name);
    require(value >= min, "data set file '" + path_ + "': attribute '" + name + "' is " + std::to_string(value) +
                              ", must be >= " + std::to_string(min));
    return value;
  };
  auto read_string = [&](const char* name) {
    require_attribute(name);
    return read_string_attribute(file, path_, "/", name);
  };
  const std::string format = read_string("format");
  require(format == format_name,
          "data set file '" + path_ + "' has format '" + format + "', expected '" + format_name + "'");
  DatasetHeader h;
  h.n = read_int("N", 1);
  h.samples = read_int("samples", 1);
  h.data_size = read_int("data_size", 1);
  h.data_rows = read_int("data_rows", 1);
  h.data_cols = read_int("data_cols", 1);
  require_attribute("noise");
  h.noise = read_real_attribute(file, path_, "/", "noise");
  require(std::isfinite(h.noise) && h.noise >= 0,
          "data set file '" + path_ + "': attribute 'noise' must be a finite number >= 0");
  h.seed = read_int("seed", PETSC_MIN_INT);
  h.phantom = read_string("phantom");
  h.problem = read_string("problem");
  return h;
}

void Hdf5DatasetFile::write_vec(const std::string& group, const std::string& name, Vec v) {
  IoScope event;
  GroupScope scope(viewer_, group);
  BILEARN_CHECK(PetscObjectSetName((PetscObject)v, name.c_str()));
  BILEARN_CHECK(VecView(v, viewer_));
}

void Hdf5DatasetFile::read_vec(const std::string& group, const std::string& name, Vec v) {
  IoScope event;
  const std::string where = "data set file '" + path_ + "': " + group + "/" + name;
  {
    GroupScope scope(viewer_, group);
    PetscBool has = PETSC_FALSE;
    BILEARN_CHECK(PetscViewerHDF5HasDataset(viewer_, name.c_str(), &has));
    require(has, "data set file '" + path_ + "' has no dataset " + group + "/" + name);
    PetscInt bs = 0, in_file = 0, expected = 0;
    BILEARN_CHECK(PetscViewerHDF5ReadSizes(viewer_, name.c_str(), &bs, &in_file));
    BILEARN_CHECK(VecGetSize(v, &expected));
    require(in_file == expected,
            where + " has " + std::to_string(in_file) + " values, expected " + std::to_string(expected));
    BILEARN_CHECK(PetscObjectSetName((PetscObject)v, name.c_str()));
    BILEARN_CHECK(VecLoad(v, viewer_));
  }
  PetscInt n = 0;
  BILEARN_CHECK(VecGetLocalSize(v, &n));
  bool finite = true;
  {
    ConstVecArray a(v);
    for (PetscInt i = 0; i < n && finite; ++i) finite = std::isfinite(a[i]);
  }
  require(all_ranks(comm_, finite), where + " contains NaN or Inf values");
}

}  // namespace bilearn
