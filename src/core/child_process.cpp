#include "core/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>

extern char** environ;

namespace npukit {

namespace {

// The child writes milestone bytes, then one of these and the payload.
constexpr char kReturned = '\x01';
constexpr char kThrew = '\x02';

bool write_all(int descriptor, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(descriptor, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

bool report_result(int descriptor, const std::function<std::string(const Milestone&)>& work) {
  const Milestone milestone = [descriptor](char mark) {
    // Milestones are plain bytes; the two protocol bytes are reserved.
    if (mark != kReturned && mark != kThrew) write_all(descriptor, &mark, 1);
  };
  char kind = kReturned;
  std::string payload;
  try {
    payload = work(milestone);
  } catch (const std::exception& error) {
    kind = kThrew;
    payload = error.what();
  } catch (...) {
    kind = kThrew;
    payload = "an exception that is not a std::exception";
  }
  return write_all(descriptor, &kind, 1) && write_all(descriptor, payload.data(), payload.size());
}

[[noreturn]] void child_main(int descriptor, const std::function<std::string(const Milestone&)>& work) {
  // A crash must end only this process, quietly: handlers inherited from the host (a fuzzer's, a crash
  // reporter's) would report it as the host's own crash.
  for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(signal_number, SIG_DFL);
  const bool sent = report_result(descriptor, work);
  // _exit: the host's atexit handlers and static destructors must not run a second time.
  ::_exit(sent ? 0 : 1);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    return "signal " + std::to_string(signal_number) + " (" + ::strsignal(signal_number) + ")";
  }
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "wait status " + std::to_string(status);
}

// Reads what the child reports until it closes its end or the time is up, waits for it, and decodes.
ChildProcessResult collect_result(pid_t child, int descriptor, int timeout_milliseconds) {
  std::string received;
  bool timed_out = false;
  char buffer[65536];
  for (;;) {
    pollfd waiting{descriptor, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, timeout_milliseconds);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      ::kill(child, SIGKILL);
      break;
    }
    const ssize_t count = ::read(descriptor, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    received.append(buffer, static_cast<size_t>(count));
  }
  ::close(descriptor);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  ChildProcessResult outcome;
  size_t end = 0;
  while (end < received.size() && received[end] != kReturned && received[end] != kThrew) ++end;
  outcome.milestones = received.substr(0, end);
  const bool exited_cleanly = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (timed_out) {
    outcome.failure = "did not finish within " + (timeout_milliseconds % 1000 == 0
                                                      ? std::to_string(timeout_milliseconds / 1000) + " s"
                                                      : std::to_string(timeout_milliseconds) + " ms");
  } else if (!exited_cleanly || end == received.size()) {
    outcome.failure = describe_status(status);
  } else if (received[end] == kThrew) {
    outcome.failure = "threw: " + received.substr(end + 1);
  } else {
    outcome.finished = true;
    outcome.result = received.substr(end + 1);
  }
  return outcome;
}

ChildProcessResult run_here(const std::function<std::string(const Milestone&)>& work) {
  ChildProcessResult outcome;
  const Milestone milestone = [&outcome](char mark) { outcome.milestones.push_back(mark); };
  outcome.result = work(milestone);  // exceptions reach the caller as they are
  outcome.finished = true;
  return outcome;
}

}  // namespace

ChildProcessResult run_in_child_process(const std::function<std::string(const Milestone&)>& work,
                                        int timeout_milliseconds) {
  int descriptors[2];
  if (::pipe(descriptors) != 0) return run_here(work);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(descriptors[0]);
    ::close(descriptors[1]);
    return run_here(work);
  }
  if (child == 0) {
    ::close(descriptors[0]);
    child_main(descriptors[1], work);
  }
  ::close(descriptors[1]);
  return collect_result(child, descriptors[0], timeout_milliseconds);
}

ChildProcessResult run_helper_program(const std::string& executable, const std::string& input,
                                      int timeout_milliseconds) {
  ChildProcessResult not_started;
  // O_CLOEXEC: a helper another thread starts at the same moment must not inherit these ends (it would hold
  // the pipes open and hide this helper's end).
  int to_helper[2], from_helper[2];
  if (::pipe2(to_helper, O_CLOEXEC) != 0) {
    not_started.failure = std::string("cannot create a pipe: ") + std::strerror(errno);
    return not_started;
  }
  if (::pipe2(from_helper, O_CLOEXEC) != 0) {
    not_started.failure = std::string("cannot create a pipe: ") + std::strerror(errno);
    ::close(to_helper[0]);
    ::close(to_helper[1]);
    return not_started;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto 0 and 1 clears close-on-exec there; the originals close with the exec.
  posix_spawn_file_actions_adddup2(&actions, to_helper[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_helper[1], STDOUT_FILENO);
  // The helper starts with default signal handling, whatever this process installed (a fuzzer's, Python's).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE, SIGINT, SIGTERM}) sigaddset(&defaults, signal_number);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char* arguments[] = {const_cast<char*>(executable.c_str()), nullptr};
  pid_t child = 0;
  const int spawned = ::posix_spawn(&child, executable.c_str(), &actions, &attributes, arguments, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(to_helper[0]);
  ::close(from_helper[1]);
  if (spawned != 0) {
    ::close(to_helper[1]);
    ::close(from_helper[0]);
    not_started.failure = "cannot start " + executable + ": " + std::strerror(spawned);
    return not_started;
  }

  // A helper that dies before it read everything closes its end: the write must fail with EPIPE, not kill this
  // process with SIGPIPE. The signal is blocked in this thread while writing and a pending one is taken back.
  sigset_t pipe_signal, previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  write_all(to_helper[1], input.data(), input.size());
  ::close(to_helper[1]);
  const timespec no_wait{0, 0};
  while (::sigtimedwait(&pipe_signal, nullptr, &no_wait) > 0) {
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  // The helper reads all its input before it reports anything, so writing first and reading after cannot
  // wait on each other.
  return collect_result(child, from_helper[0], timeout_milliseconds);
}

bool report_work_result(int descriptor, const std::function<std::string(const Milestone&)>& work) {
  return report_result(descriptor, work);
}

size_t running_thread_count() {
  std::error_code error;
  size_t threads = 0;
  for (std::filesystem::directory_iterator entry("/proc/self/task", error), end; !error && entry != end;
       entry.increment(error)) {
    ++threads;
  }
  return error ? 0 : threads;
}

}  // namespace npukit
