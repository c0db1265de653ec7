/* Runs a command in a process state that is the same on every machine, for the PGO training run
 * (build_cpython.sh compiles it in the hermetic builder and runs the instrumented interpreter
 * through it):
 *  - no address-space randomisation, and the legacy (bottom-up) mmap layout, whose base is a
 *    constant of the architecture rather than a function of the stack limit: object addresses,
 *    which decide hash-table probes, the method cache and pickle's memo, are the same every run;
 *  - every signal at its default disposition and none blocked: a build started in the background
 *    of a shell inherits SIGINT and SIGQUIT ignored, and CPython's start-up takes another path
 *    for an ignored SIGINT;
 *  - no file descriptor open beyond 0, 1 and 2, so the descriptors the command opens are
 *    numbered alike.
 *
 *     pgo_isolate COMMAND [ARG...]
 */
#include <signal.h>
#include <stdio.h>
#include <sys/personality.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pgo_isolate COMMAND [ARG...]\n");
    return 127;
  }
  if (personality(ADDR_NO_RANDOMIZE | ADDR_COMPAT_LAYOUT) == -1) {
    perror("pgo_isolate: personality");
    return 127;
  }
  for (int sig = 1; sig < NSIG; sig++) {
    signal(sig, SIG_DFL); /* fails, harmlessly, for SIGKILL, SIGSTOP and the unused numbers */
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) == -1) {
    perror("pgo_isolate: sigprocmask");
    return 127;
  }
  for (int fd = 3; fd < 4096; fd++) {
    close(fd);
  }
  execv(argv[1], argv + 1);
  perror("pgo_isolate: execv");
  return 127;
}
