// Errors: PETSc failures and bad user input as C++ exceptions, a checking macro for PETSc
// calls, and the guard every C callback handed to PETSc runs its body through.
#pragma once
#include <petscsys.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace bilearn {

// A failed PETSc call; the PETSc error code travels with it (back into PETSc if needed).
class PetscFailure : public std::runtime_error {
 public:
  PetscFailure(PetscErrorCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  PetscErrorCode code() const noexcept { return code_; }

 private:
  PetscErrorCode code_;
};

// Bad input from the user (options, files, data): the message is meant to be read by them.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A numerical failure (non-convergence, breakdown, indefinite operator where SPD is needed).
class NumericalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Pushed once after PetscInitialize: keeps PETSc's first message and prints nothing.
PetscErrorCode quiet_error_handler(MPI_Comm, int, const char*, const char*, PetscErrorCode, PetscErrorType,
                                   const char* message, void*);

[[noreturn]] void throw_petsc(PetscErrorCode code, const char* expr, const char* file, int line);

// Throws InputError(message) unless cond holds. Call it identically on every rank.
inline void require(bool cond, const std::string& message) {
  if (!cond) throw InputError(message);
}

#define BILEARN_CHECK(expr)                                                               \
  do {                                                                                    \
    PetscErrorCode bilearn_ierr_ = (expr);                                                \
    if (bilearn_ierr_) ::bilearn::throw_petsc(bilearn_ierr_, #expr, __FILE__, __LINE__); \
  } while (0)

// Runs body; any exception becomes a PETSc error code with its message (for C callbacks).
template <class Body>
PetscErrorCode guarded(MPI_Comm comm, const char* func, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return 0;
  } catch (const PetscFailure& e) {
    return PetscError(comm, __LINE__, func, __FILE__, e.code(), PETSC_ERROR_REPEAT, "%s", e.what());
  } catch (const std::exception& e) {
    return PetscError(comm, __LINE__, func, __FILE__, PETSC_ERR_LIB, PETSC_ERROR_INITIAL, "%s", e.what());
  } catch (...) {
    return PetscError(comm, __LINE__, func, __FILE__, PETSC_ERR_LIB, PETSC_ERROR_INITIAL, "unknown exception");
  }
}

}  // namespace bilearn
