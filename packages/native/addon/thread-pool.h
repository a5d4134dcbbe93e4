// A small persistent thread pool: `run(tasks, fn)` calls fn(task, worker) for every task index,
// spread over the pool's workers and the calling thread (worker 0), and returns when all are done.
// It runs one job at a time and `run` must not be called from two threads at once: the addon
// reaches it only through a Session (workspace.h), which gives one operation the pool at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
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
   * the tasks not yet started are skipped and the first exception is rethrown here once every
   * worker has stopped.
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
  std::exception_ptr failure_;
};

}  // namespace dts
