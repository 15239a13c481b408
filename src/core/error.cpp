#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {
std::string& last_petsc_message() {
  static thread_local std::string message;
  return message;
}
}  // namespace

PetscErrorCode quiet_error_handler(MPI_Comm, int, const char*, const char*, PetscErrorCode code,
                                   PetscErrorType type, const char* message, void*) {
  if (type == PETSC_ERROR_INITIAL) last_petsc_message() = message ? message : "";
  return code;
}

void throw_petsc(PetscErrorCode code, const char* expr, const char* file, int line) {
  std::string text = last_petsc_message();
  last_petsc_message().clear();
  if (text.empty()) {
    const char* generic = nullptr;
    PetscErrorMessage(code, &generic, nullptr);
    text = generic ? generic : "PETSc error";
  }
  // Keep one line: PETSc messages sometimes carry newlines.
  for (char& c : text)
    if (c == '\n') c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  // Messages from our own callbacks already carry their context, and an unknown type named in
  // an option ("Unable to find requested KSP type bogus") is the user's: no call site for
  // those; PETSc's other errors get it.
  if (code == PETSC_ERR_LIB || code == PETSC_ERR_ARG_UNKNOWN_TYPE) throw PetscFailure(code, text);
  throw PetscFailure(code, text + " [in " + expr + " at " + file + ":" + std::to_string(line) + "]");
}

}  // namespace bilearn
