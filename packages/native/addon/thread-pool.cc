#include "thread-pool.h"

#include <exception>
#include <new>
#include <stdexcept>

// GCC 12's libstdc++ added a second version of condition_variable::wait (GLIBCXX_3.4.30); bind the
// calls here to the original one (GLIBCXX_3.4.11, still exported by every newer libstdc++), so a
// binary built with GCC 12 or later also loads against the libstdc++ of older distributions.
#if defined(__GLIBCXX__) && defined(__linux__) && defined(__x86_64__)
__asm__(".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#endif

namespace dts {

ThreadPool::ThreadPool(int threads) {
  for (int worker = 1; worker < threads; ++worker) {
    workers_.emplace_back([this, worker] { work(worker); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (auto& thread : workers_) thread.join();
}

void ThreadPool::drain(int worker) {
  for (int task = next_.fetch_add(1); task < tasks_; task = next_.fetch_add(1)) {
    Failure failure = Failure::None;
    std::string message;
    try {
      (*job_)(task, worker);
    } catch (const std::bad_alloc&) {
      failure = Failure::OutOfMemory;
    } catch (const std::exception& error) {
      failure = Failure::Error;
      message = error.what();
    } catch (...) {
      failure = Failure::Error;
      message = "a native kernel task failed";
    }
    if (failure != Failure::None) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (failure_ == Failure::None) {
        failure_ = failure;
        failureMessage_ = std::move(message);
      }
      next_.store(tasks_);  // hand out no more tasks
    }
  }
}

void ThreadPool::work(int worker) {
  unsigned long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    drain(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) finished_.notify_one();
    }
  }
}

void ThreadPool::run(int tasks, const std::function<void(int, int)>& fn) {
  if (tasks <= 0) return;
  if (workers_.empty() || tasks == 1) {
    for (int task = 0; task < tasks; ++task) fn(task, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    tasks_ = tasks;
    next_.store(0);
    busy_ = static_cast<int>(workers_.size());
    failure_ = Failure::None;
    ++generation_;
  }
  start_.notify_all();
  drain(0);
  Failure failure;
  std::string message;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
    failure = failure_;
    message = std::move(failureMessage_);
    failure_ = Failure::None;
  }
  if (failure == Failure::OutOfMemory) throw std::bad_alloc();
  if (failure == Failure::Error) throw std::runtime_error(message);
}

}  // namespace dts
