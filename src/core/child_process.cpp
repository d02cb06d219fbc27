#include "core/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

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

[[noreturn]] void child_main(int descriptor, const std::function<std::string(const Milestone&)>& work) {
  // A crash must end only this process, quietly: handlers inherited from the host (a fuzzer's, a crash
  // reporter's) would report it as the host's own crash.
  for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(signal_number, SIG_DFL);
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
  const bool sent = write_all(descriptor, &kind, 1) && write_all(descriptor, payload.data(), payload.size());
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

  std::string received;
  bool timed_out = false;
  char buffer[65536];
  for (;;) {
    pollfd waiting{descriptors[0], POLLIN, 0};
    const int ready = ::poll(&waiting, 1, timeout_milliseconds);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      ::kill(child, SIGKILL);
      break;
    }
    const ssize_t count = ::read(descriptors[0], buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    received.append(buffer, static_cast<size_t>(count));
  }
  ::close(descriptors[0]);
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

}  // namespace npukit
