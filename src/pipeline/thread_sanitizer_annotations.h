// Tells ThreadSanitizer about the hand-offs oneTBB makes between threads. Debian's libtbb is not built with
// TSan, so the synchronization of its task scheduler (atomics and futexes inside libtbb.so) is invisible to it,
// and every frame passed from one node of the flow graph to the next would be reported as a race. Each node
// body therefore acquires a sync object when it starts and releases it when it ends: a body that finished
// before another started is ordered before it, which is what the flow graph guarantees for the message it
// passes. Two bodies that run at the same time are not ordered by this, so a real race between concurrent
// stages (two workers on one engine, a statistic written from two threads) is still reported.
// In every other build these are empty inline functions.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define NPUKIT_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NPUKIT_THREAD_SANITIZER 1
#endif
#endif

#ifdef NPUKIT_THREAD_SANITIZER
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

namespace npukit::pipeline {

inline void annotate_acquire([[maybe_unused]] void* sync_object) {
#ifdef NPUKIT_THREAD_SANITIZER
  __tsan_acquire(sync_object);
#endif
}

inline void annotate_release([[maybe_unused]] void* sync_object) {
#ifdef NPUKIT_THREAD_SANITIZER
  __tsan_release(sync_object);
#endif
}

// Acquire on entry, release on exit: wraps one node body.
class HandOffScope {
 public:
  explicit HandOffScope(void* sync_object) : sync_object_(sync_object) { annotate_acquire(sync_object_); }
  ~HandOffScope() { annotate_release(sync_object_); }
  HandOffScope(const HandOffScope&) = delete;
  HandOffScope& operator=(const HandOffScope&) = delete;

 private:
  void* sync_object_;
};

}  // namespace npukit::pipeline
