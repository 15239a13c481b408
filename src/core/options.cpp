#include "bilearn/core/options.hpp"

#include <cmath>
#include <sstream>

#include "bilearn/core/error.hpp"

namespace bilearn {

OptionsBlock::OptionsBlock(MPI_Comm comm, const std::string& prefix, const std::string& title) : prefix_(prefix) {
  BILEARN_CHECK(PetscMemzero(&items_, sizeof(items_)));
  items_.count = 1;  // one pass: this PETSc has no SAWs publishing
  BILEARN_CHECK(
      PetscOptionsBegin_Private(&items_, comm, prefix_.empty() ? nullptr : prefix_.c_str(), title.c_str(), nullptr));
  open_ = true;
}

OptionsBlock::~OptionsBlock() {
  end();
}

void OptionsBlock::end() noexcept {
  if (open_) PetscOptionsEnd_Private(&items_);
  open_ = false;
}

namespace {
// Runs a PETSc option read; its failure (a value that is not a number) becomes an InputError
// naming the option, without the call site.
template <class Read>
void read_option(const std::string& option, Read&& read) {
  try {
    read();
  } catch (const PetscFailure& e) {
    std::string m = e.what();
    const auto site = m.find(" [in ");
    if (site != std::string::npos) m.erase(site);
    throw InputError(option + ": " + m);
  }
}
}  // namespace

std::string OptionsBlock::full_name(const char* name) const {
  std::string n = name;
  return "-" + prefix_ + n.substr(1);
}

PetscInt OptionsBlock::integer(const char* name, const char* help, PetscInt def, PetscInt min, PetscInt max) {
  PetscInt value = def;
  PetscBool set = PETSC_FALSE;
  // Read without PETSc's own bounds so the error message is ours.
  read_option(full_name(name), [&] {
    BILEARN_CHECK(PetscOptionsInt_Private(&items_, name, help, "", def, &value, &set, PETSC_MIN_INT, PETSC_MAX_INT));
  });
  if (value < min || value > max) {
    std::ostringstream msg;
    msg << full_name(name) << " must be ";
    if (max == PETSC_MAX_INT)
      msg << ">= " << min;
    else
      msg << "in [" << min << ", " << max << "]";
    msg << ", got " << value;
    throw InputError(msg.str());
  }
  return value;
}

PetscReal OptionsBlock::real(const char* name, const char* help, PetscReal def) {
  return real(name, help, def, PETSC_NINFINITY, PETSC_INFINITY);
}

PetscReal OptionsBlock::real(const char* name, const char* help, PetscReal def, PetscReal min, PetscReal max) {
  PetscReal value = def;
  PetscBool set = PETSC_FALSE;
  read_option(full_name(name),
              [&] { BILEARN_CHECK(PetscOptionsReal_Private(&items_, name, help, "", def, &value, &set)); });
  if (!std::isfinite(value)) throw InputError(full_name(name) + " must be a finite number");
  if (value < min || value > max) {
    std::ostringstream msg;
    msg << full_name(name) << " must be in [" << min << ", " << max << "], got " << value;
    throw InputError(msg.str());
  }
  return value;
}

bool OptionsBlock::flag(const char* name, const char* help, bool def) {
  PetscBool value = def ? PETSC_TRUE : PETSC_FALSE;
  PetscBool set = PETSC_FALSE;
  read_option(full_name(name),
              [&] { BILEARN_CHECK(PetscOptionsBool_Private(&items_, name, help, "", value, &value, &set)); });
  return value == PETSC_TRUE;
}

std::string OptionsBlock::string(const char* name, const char* help, const std::string& def) {
  char buffer[PETSC_MAX_PATH_LEN];
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscStrncpy(buffer, def.c_str(), sizeof(buffer)));
  BILEARN_CHECK(PetscOptionsString_Private(&items_, name, help, "", def.c_str(), buffer, sizeof(buffer), &set));
  return set ? std::string(buffer) : def;
}

std::string OptionsBlock::choice(const char* name, const char* help, const std::vector<std::string>& choices,
                                 const std::string& def) {
  std::string listed;
  for (const auto& c : choices) listed += (listed.empty() ? "" : "|") + c;
  const std::string text = std::string(help) + " (" + listed + ")";
  std::string value = string(name, text.c_str(), def);
  for (const auto& c : choices)
    if (c == value) return value;
  std::string commas;
  for (const auto& c : choices) commas += (commas.empty() ? "" : ", ") + c;
  throw InputError("unknown value '" + value + "' for " + full_name(name) + " (choose one of " + commas + ")");
}

std::vector<PetscReal> OptionsBlock::reals(const char* name, const char* help, const std::vector<PetscReal>& def,
                                           PetscInt max_count) {
  std::vector<PetscReal> values(static_cast<size_t>(max_count));
  PetscInt n = max_count;
  PetscBool set = PETSC_FALSE;
  read_option(full_name(name),
              [&] { BILEARN_CHECK(PetscOptionsRealArray_Private(&items_, name, help, "", values.data(), &n, &set)); });
  if (!set) return def;
  values.resize(static_cast<size_t>(n));
  for (PetscReal v : values)
    if (!std::isfinite(v)) throw InputError(full_name(name) + " must contain finite numbers only");
  return values;
}

bool OptionsBlock::was_set(const char* name) const {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, prefix_.empty() ? nullptr : prefix_.c_str(), name, &set));
  return set == PETSC_TRUE;
}

void OptionsBlock::view_option(const char* name, const char* help) {
  char buffer[PETSC_MAX_PATH_LEN] = "";
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsString_Private(&items_, name, help, "", "", buffer, sizeof(buffer), &set));
}

bool help_requested() {
  PetscBool help = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasHelp(nullptr, &help));
  return help == PETSC_TRUE;
}

void view_from_options(const char* prefix, const char* name, const std::function<void(PetscViewer)>& view) {
  PetscViewer viewer = nullptr;
  PetscViewerFormat format = PETSC_VIEWER_DEFAULT;
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsGetViewer(PETSC_COMM_WORLD, nullptr, prefix, name, &viewer, &format, &set));
  if (!set) return;
  auto release = [&] {
    PetscViewerPopFormat(viewer);
    PetscViewerDestroy(&viewer);
  };
  BILEARN_CHECK(PetscViewerPushFormat(viewer, format));
  try {
    view(viewer);
  } catch (...) {
    release();
    throw;
  }
  release();
}

}  // namespace bilearn
