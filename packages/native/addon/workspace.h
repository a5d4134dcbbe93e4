// The addon's thread pool together with the scratch memory its threads use, and the Session an
// operation holds while it runs on them.
//
// Every operation opens one Session: it takes the current Workspace (a pool, one WorkerScratch per
// thread of that pool, and the SharedScratch an operation fills before its parallel part) for its
// whole run, so the scratch is never shared by two operations and nothing is function-local or
// static. Operations from two host threads (Node worker_threads) take turns on the workspace
// instead of corrupting each other's scratch. `set_threads` builds a new Workspace and swaps it in
// under a lock; sessions already running finish on the old one, which the last of them frees.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "buffer.h"
#include "thread-pool.h"

namespace dts {

/** Below this many multiply-adds (or element operations) a loop runs on the calling thread alone. */
constexpr double kParallelWork = 1 << 18;

/** Scratch of one worker thread, kept between operations (grown, never shrunk). */
struct WorkerScratch {
  /** A packed block of A (gemm_rows). */
  Buffer packedA;
  /** A packed chunk of B (the filter gradient's dy). */
  Buffer packedB;
  /** This worker's partial sum of a gradient. */
  Buffer partial;
  /** Tap pointers of gathered convolution rows. */
  std::vector<const float*> taps;
  /** Whether `partial` holds a sum in the current operation. */
  bool partialUsed = false;
};

/** Buffers an operation fills before its parallel part and every worker then reads. */
struct SharedScratch {
  /** Packed B panels (weights) of the whole operation. */
  Buffer packed;
  /** A transposed operand or result. */
  Buffer staging;
  /** Rows gathered before packing (the strided input gradient's taps). */
  Buffer rows;
};

/** A thread pool and the scratch of each of its threads. */
class Workspace {
 public:
  explicit Workspace(int threads) : pool_(threads), workers_(static_cast<std::size_t>(pool_.threads())) {}
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  int threads() const { return pool_.threads(); }

 private:
  friend class Session;
  friend void set_threads(int threads);
  ThreadPool pool_;
  std::vector<WorkerScratch> workers_;
  SharedScratch shared_;
  /** Held by the Session using this workspace. */
  std::mutex busy_;
  /** Sessions opened on this workspace and not yet ended (guarded by the registry's lock). */
  int sessions_ = 0;
  /** Replaced by `set_threads`: the last session to end frees it (guarded by the registry's lock). */
  bool retired_ = false;
};

/** Exclusive use of the current workspace for one operation; later callers wait for it. */
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /** Threads of this session's pool, the calling thread included. */
  int threads() const { return workspace_->threads(); }

  /**
   * Runs fn(task, worker) for every task on the pool, or all on the calling thread (worker 0)
   * when `work` (multiply-adds or element operations) is too small to be worth sharing.
   */
  void parallel(int tasks, double work, const std::function<void(int, int)>& fn);

  /** The scratch of `worker` (as passed to a `parallel` task; 0 is the calling thread). */
  WorkerScratch& scratch(int worker) { return workspace_->workers_[static_cast<std::size_t>(worker)]; }

  /** The buffers this operation shares between its workers. */
  SharedScratch& shared() { return workspace_->shared_; }

 private:
  Workspace* workspace_;
  std::unique_lock<std::mutex> hold_;
};

/** One parallel loop in a session of its own (for operations that need no scratch). */
void parallel_for(int tasks, double work, const std::function<void(int, int)>& fn);

/** Replaces the workspace by one with `threads` threads (clamped to 1..64; 1 = the calling thread only). */
void set_threads(int threads);

/** The thread count of the current workspace. */
int thread_count();

}  // namespace dts
