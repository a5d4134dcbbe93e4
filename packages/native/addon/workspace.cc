#include "workspace.h"

#include <algorithm>
#include <thread>

namespace dts {

namespace {

int default_threads() {
  const unsigned hardware = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(1u, std::min(hardware == 0 ? 1u : hardware, 8u)));
}

// The registry: the workspace new sessions take. Lifetimes are counted by
// hand rather than with shared_ptr, whose atomics would make the binary need glibc 2.32.
std::mutex registryLock;
Workspace* current = nullptr;

/** The current workspace, built on first use; the caller holds registryLock. */
Workspace* current_locked() {
  if (current == nullptr) current = new Workspace(default_threads());
  return current;
}

}  // namespace

Session::Session() {
  {
    std::lock_guard<std::mutex> lock(registryLock);
    workspace_ = current_locked();
    ++workspace_->sessions_;
  }
  hold_ = std::unique_lock<std::mutex>(workspace_->busy_);
}

Session::~Session() {
  hold_.unlock();
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(registryLock);
    last = --workspace_->sessions_ == 0 && workspace_->retired_;
  }
  if (last) delete workspace_;  // joins its pool's threads
}

void Session::parallel(int tasks, double work, const std::function<void(int, int)>& fn) {
  if (work < kParallelWork || tasks <= 1) {
    for (int task = 0; task < tasks; ++task) fn(task, 0);
    return;
  }
  workspace_->pool_.run(tasks, fn);
}

void parallel_for(int tasks, double work, const std::function<void(int, int)>& fn) {
  Session session;
  session.parallel(tasks, work, fn);
}

void set_threads(int threads) {
  Workspace* fresh = new Workspace(std::max(1, std::min(threads, 64)));
  Workspace* unused = nullptr;
  {
    std::lock_guard<std::mutex> lock(registryLock);
    if (current != nullptr) {
      current->retired_ = true;
      if (current->sessions_ == 0) unused = current;
    }
    current = fresh;
  }
  // Outside the lock: joining a pool's threads takes a moment. A workspace still in use is freed
  // by its last session instead.
  delete unused;
}

int thread_count() {
  std::lock_guard<std::mutex> lock(registryLock);
  return current_locked()->threads();
}

}  // namespace dts
