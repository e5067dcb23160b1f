// Small concurrency helpers: a counting semaphore and a bounded parallel loop.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tenantscan::collect::detail {

class Semaphore {
public:
    explicit Semaphore(int count) : count_(count) {}
    void acquire() {
        std::unique_lock<std::mutex> lock(mutex_);
        available_.wait(lock, [this] { return count_ > 0; });
        --count_;
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++count_;
        }
        available_.notify_one();
    }

private:
    std::mutex mutex_;
    std::condition_variable available_;
    int count_;
};

// Runs body(0..count-1) on at most `workers` threads. The first exception stops the
// remaining items from starting and is rethrown once every thread has finished.
inline void parallel_for(std::size_t count, int workers, const std::function<void(std::size_t)>& body) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex errorMutex;
    auto work = [&] {
        for (std::size_t i = next++; i < count && !failed; i = next++) {
            try {
                body(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (!error) error = std::current_exception();
                failed = true;
            }
        }
    };
    std::size_t threads = std::min<std::size_t>(count, workers < 1 ? 1 : static_cast<std::size_t>(workers));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& thread : pool) thread.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace tenantscan::collect::detail
