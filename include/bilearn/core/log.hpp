// One PETSc log event per component and one log stage per phase, so that -log_view answers
// "where did the time go". Registered once by Session. Stages nest (time goes to the innermost
// one): setup (operator, data), outer (the training loop), line search, lower (the lower-level
// solves), hypergradient (the Krylov solves and J products), io (PNG, HDF5, history, checkpoints).
// An event must not straddle a stage push or pop: open it inside the stage, or around it.
#pragma once
#include <petscsys.h>

namespace bilearn::log {

struct Events {
  PetscLogEvent operator_assembly = 0;
  PetscLogEvent operator_transpose = 0;  // forming the stored Aᵀ
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
  PetscLogStage line_search = 0;
  PetscLogStage io = 0;
};

const Events& events();
const Stages& stages();
void register_all();  // idempotent; called by Session after PetscInitialize

// Begin/end of a log event, balanced even when an exception leaves the scope. o1..o3: the
// objects the event is logged for (optional, as in PetscLogEventBegin).
class ScopedEvent {
 public:
  explicit ScopedEvent(PetscLogEvent event, PetscObject o1 = nullptr, PetscObject o2 = nullptr,
                       PetscObject o3 = nullptr)
      : event_(event), o1_(o1), o2_(o2), o3_(o3) {
    PetscLogEventBegin(event_, o1_, o2_, o3_, 0);
  }
  ~ScopedEvent() { end(); }
  ScopedEvent(const ScopedEvent&) = delete;
  ScopedEvent& operator=(const ScopedEvent&) = delete;
  // Ends the event before the scope does (the destructor then does nothing).
  void end() {
    if (open_) PetscLogEventEnd(event_, o1_, o2_, o3_, 0);
    open_ = false;
  }

 private:
  PetscLogEvent event_;
  PetscObject o1_, o2_, o3_;
  bool open_ = true;
};

// Push/pop of a log stage, balanced even when an exception leaves the scope.
class ScopedStage {
 public:
  explicit ScopedStage(PetscLogStage stage) { PetscLogStagePush(stage); }
  ~ScopedStage() { PetscLogStagePop(); }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;
};

}  // namespace bilearn::log
