// Reading options from the PETSc options database inside one titled block, so that every
// option appears in -help, with range checks that throw InputError naming the option.
#pragma once
#include <petscsys.h>
#include <petscviewer.h>

#include <functional>
#include <string>
#include <vector>

namespace bilearn {

class OptionsBlock {
 public:
  // prefix may be empty; title is what -help prints above the block.
  OptionsBlock(MPI_Comm comm, const std::string& prefix, const std::string& title);
  ~OptionsBlock();
  OptionsBlock(const OptionsBlock&) = delete;
  OptionsBlock& operator=(const OptionsBlock&) = delete;

  // name is the full option name without prefix, e.g. "-problem_n".
  PetscInt integer(const char* name, const char* help, PetscInt def, PetscInt min = PETSC_MIN_INT,
                   PetscInt max = PETSC_MAX_INT);
  PetscReal real(const char* name, const char* help, PetscReal def);
  // A real that must lie in [min, max] (use PETSC_INFINITY / PETSC_NINFINITY for open ends).
  PetscReal real(const char* name, const char* help, PetscReal def, PetscReal min, PetscReal max);
  bool flag(const char* name, const char* help, bool def);
  std::string string(const char* name, const char* help, const std::string& def);
  // One of choices; anything else is an InputError listing the choices.
  std::string choice(const char* name, const char* help, const std::vector<std::string>& choices,
                     const std::string& def);
  // Comma-separated reals; returns def when the option is absent. max_count bounds the length.
  std::vector<PetscReal> reals(const char* name, const char* help, const std::vector<PetscReal>& def,
                               PetscInt max_count = 4096);
  bool was_set(const char* name) const;  // true if the user gave the option
  // Lists a PETSc viewer option (e.g. "-view": -reg_view [ascii[:file]]) in -help; the
  // object's creator acts on it with view_from_options once the block is closed.
  void view_option(const char* name, const char* help);

  // Full option name as the user types it, e.g. "-hyper_ksp_rtol".
  std::string full_name(const char* name) const;

 private:
  void end() noexcept;
  PetscOptionItems items_{};
  std::string prefix_;
  bool open_ = false;
};

// True when -help was given: a command then reads (and so prints) its options and returns
// before it solves, writes or benchmarks anything.
bool help_requested();

// PETSc's XViewFromOptions: if -<prefix><name> is given (PETSc viewer syntax; default ASCII on
// stdout), calls view with that viewer. The viewer lives on PETSC_COMM_WORLD, so world rank 0
// prints once even when every sample group views its own object. Collective over the world
// when the option is given.
void view_from_options(const char* prefix, const char* name, const std::function<void(PetscViewer)>& view);

}  // namespace bilearn
