// Scalar attributes of an HDF5 group read through the HDF5 C API, for data sets written by other
// programs: strings fixed-length (what PETSc writes, h5py's np.bytes_) or variable-length (h5py's
// default for a Python str, ASCII or UTF-8); numbers as integers or reals of any width. An
// attribute of another kind, or with more than one value, is an InputError naming the file and
// the attribute and saying what is expected, instead of HDF5's "H5Aread() Status -1".
// Every rank reads the same attribute (HDF5's metadata reads are collective on a parallel file).
#pragma once
#include <hdf5.h>
#include <petscsys.h>

#include <string>

namespace bilearn {

// The attribute `name` of the object at `object` ("/" for the root) of the open file `file`,
// with `path` the file's name for the messages.
std::string read_string_attribute(hid_t file, const std::string& path, const char* object, const char* name);
PetscInt read_int_attribute(hid_t file, const std::string& path, const char* object, const char* name);
PetscReal read_real_attribute(hid_t file, const std::string& path, const char* object, const char* name);

}  // namespace bilearn
