// A small persistent thread pool: `run(tasks, fn)` calls fn(task, worker) for every task index,
// spread over the pool's workers and the calling thread (worker 0), and returns when all are done.
// It runs one job at a time and `run` must not be called from two threads at once: the addon
// reaches it only through a Session (workspace.h), which gives one operation the pool at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dts {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /** Workers including the calling thread. */
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  /**
   * Runs fn(task, worker) for task in [0, tasks); worker is in [0, threads()). When a task throws,
   * the tasks not yet started are skipped and, once every worker has stopped, the first failure is
   * thrown here again: std::bad_alloc as itself, anything else as a std::runtime_error with its
   * message. (Not std::exception_ptr: copying one needs a libstdc++ from GCC 11 or later.)
   */
  void run(int tasks, const std::function<void(int, int)>& fn);

 private:
  void work(int worker);
  void drain(int worker);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable finished_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<int> next_{0};
  int tasks_ = 0;
  int busy_ = 0;
  unsigned long generation_ = 0;
  bool stopping_ = false;
  /** The first task failure of the current job: none, out of memory, or another error (with its message). */
  enum class Failure { None, OutOfMemory, Error } failure_ = Failure::None;
  std::string failureMessage_;
};

}  // namespace dts
