#include "io/hdf5_attributes.hpp"

#include <cstdint>
#include <vector>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

// An HDF5 identifier closed with its close function at the end of the scope.
class H5Id {
 public:
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const noexcept { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

const char* describe(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER:
      return "an integer";
    case H5T_FLOAT:
      return "a real number";
    case H5T_STRING:
      return "a string";
    case H5T_ARRAY:
      return "an HDF5 array type";
    case H5T_COMPOUND:
      return "a compound type";
    case H5T_ENUM:
      return "an enumeration (a boolean from h5py?)";
    case H5T_VLEN:
      return "a variable-length sequence";
    default:
      return "of an unsupported HDF5 type";
  }
}

// An open scalar attribute and its file type; its kind must be one of the two classes given
// (b = a for one), else an InputError saying it is `expected`.
struct Attribute {
  H5Id attribute;
  H5Id type;

  Attribute(hid_t file, const std::string& path, const char* object, const char* name, H5T_class_t a, H5T_class_t b,
            const char* expected)
      : attribute(H5Aopen_by_name(file, object, name, H5P_DEFAULT, H5P_DEFAULT), H5Aclose),
        type(attribute.get() >= 0 ? H5Aget_type(attribute.get()) : -1, H5Tclose) {
    const std::string where = "data set file '" + path + "': attribute '" + name + "'";
    require(attribute.get() >= 0 && type.get() >= 0, where + " cannot be read");
    const H5T_class_t type_class = H5Tget_class(type.get());
    require(type_class == a || type_class == b, where + " is " + describe(type_class) + ", expected " + expected);
    H5Id space(H5Aget_space(attribute.get()), H5Sclose);
    const hssize_t count = space.get() >= 0 ? H5Sget_simple_extent_npoints(space.get()) : -1;
    require(count == 1,
            where + " holds " + std::to_string(count) + " values, expected a single value (" + expected + ")");
  }
};

}  // namespace

std::string read_string_attribute(hid_t file, const std::string& path, const char* object, const char* name) {
  Attribute a(file, path, object, name, H5T_STRING, H5T_STRING, "a string");
  const std::string unreadable = "data set file '" + path + "': attribute '" + name + "' (a string) cannot be read";
  if (H5Tis_variable_str(a.type.get()) > 0) {
    // h5py's default for a Python str: a char* the library allocates.
    H5Id memory(H5Tcopy(H5T_C_S1), H5Tclose);
    require(memory.get() >= 0 && H5Tset_size(memory.get(), H5T_VARIABLE) >= 0 &&
                H5Tset_cset(memory.get(), H5Tget_cset(a.type.get())) >= 0,
            unreadable);
    char* value = nullptr;
    require(H5Aread(a.attribute.get(), memory.get(), &value) >= 0, unreadable);
    std::string out = value ? value : "";
    H5free_memory(value);
    return out;
  }
  // Fixed length (PETSc, np.bytes_): read the bytes as stored; NUL- or space-padded.
  const size_t size = H5Tget_size(a.type.get());
  std::vector<char> buffer(size + 1, '\0');
  require(size > 0 && H5Aread(a.attribute.get(), a.type.get(), buffer.data()) >= 0, unreadable);
  std::string out(buffer.data());
  if (H5Tget_strpad(a.type.get()) == H5T_STR_SPACEPAD)
    while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

PetscInt read_int_attribute(hid_t file, const std::string& path, const char* object, const char* name) {
  Attribute a(file, path, object, name, H5T_INTEGER, H5T_INTEGER, "an integer");
  std::int64_t value = 0;
  require(H5Aread(a.attribute.get(), H5T_NATIVE_INT64, &value) >= 0,
          "data set file '" + path + "': attribute '" + name + "' (an integer) cannot be read");
  require(value >= PETSC_MIN_INT && value <= PETSC_MAX_INT, "data set file '" + path + "': attribute '" + name +
                                                                "' is " + std::to_string(value) +
                                                                ", beyond PETSc's integer range");
  return static_cast<PetscInt>(value);
}

PetscReal read_real_attribute(hid_t file, const std::string& path, const char* object, const char* name) {
  Attribute a(file, path, object, name, H5T_FLOAT, H5T_INTEGER, "a number");
  double value = 0;
  require(H5Aread(a.attribute.get(), H5T_NATIVE_DOUBLE, &value) >= 0,
          "data set file '" + path + "': attribute '" + name + "' (a number) cannot be read");
  return static_cast<PetscReal>(value);
}

}  // namespace bilearn
