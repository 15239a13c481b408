// One PETSc log event per component and one log stage per phase, so that -log_view answers
// "where did the time go". Registered once by Session.
#pragma once
#include <petscsys.h>

namespace bilearn::log {

struct Events {
  PetscLogEvent operator_assembly = 0;
  PetscLogEvent operator_apply = 0;
  PetscLogEvent hessian_apply = 0;
  PetscLogEvent mixed_apply = 0;  // J v and Jᵀ w
  PetscLogEvent lower_solve = 0;
  PetscLogEvent krylov_solve = 0;
  PetscLogEvent recycle_update = 0;
  PetscLogEvent selector = 0;
  PetscLogEvent hypergradient = 0;
  PetscLogEvent checkpoint = 0;
  PetscLogEvent io = 0;
};

struct Stages {
  PetscLogStage setup = 0;
  PetscLogStage lower = 0;
  PetscLogStage hypergradient = 0;
  PetscLogStage outer = 0;
  PetscLogStage io = 0;
};

const Events& events();
const Stages& stages();
void register_all();  // idempotent; called by Session after PetscInitialize

// Begin/end of a log event, balanced even when an exception leaves the scope.
class ScopedEvent {
 public:
  explicit ScopedEvent(PetscLogEvent event) : event_(event) { PetscLogEventBegin(event_, 0, 0, 0, 0); }
  ~ScopedEvent() { PetscLogEventEnd(event_, 0, 0, 0, 0); }
  ScopedEvent(const ScopedEvent&) = delete;
  ScopedEvent& operator=(const ScopedEvent&) = delete;

 private:
  PetscLogEvent event_;
};

}  // namespace bilearn::log
