package dev.agentplatform.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The uid and gid the CLI runs as when the runner can switch to them (it is root, holding SETUID and SETGID): the
 * CLI is started through {@code setpriv} with no supplementary groups and no new privileges, as the process runtime
 * does.
 */
record CliUser(int uid, int gid) {

  /** nobody/nogroup: owns nothing, so it reads only what is readable by all. */
  static final CliUser NOBODY = new CliUser(65534, 65534);

  /**
   * The user a setting names ({@code auto}, {@code UID:GID}, {@code none}), or null when the CLI runs as the runner's
   * own uid ({@code none}, or {@code auto} when the runner is not root).
   */
  static CliUser resolve(String setting, int runnerUid) {
    String s = setting.trim();
    if (s.equals("none")) {
      return null;
    }
    if (s.equals("auto")) {
      return runnerUid == 0 ? NOBODY : null;
    }
    String[] parts = s.split(":");
    try {
      if (parts.length == 2) {
        CliUser u = new CliUser(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        if (u.uid() > 0 && u.gid() > 0) {
          return u;
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("RUNNER_CLI_USER is auto, none or UID:GID (not 0), not " + setting);
  }

  /**
   * The command that starts {@code argv} as this user with exactly {@code env}: {@code setpriv} switches the user
   * and then {@code env -i} sets the environment, so nothing of {@code env} (an {@code LD_PRELOAD}, say) reaches a
   * program that still runs as root. {@code setpriv} itself gets {@link #SWITCH_ENVIRONMENT} only.
   */
  List<String> command(List<String> argv, Map<String, String> env) {
    // env(1) takes NAME=VALUE arguments up to the first without '=', which is the program: StartRequest refuses a
    // program whose name holds '=', and names that could read as options.
    List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
        "--no-new-privs", "--", "env", "-i", "--"));
    env.forEach((name, value) -> command.add(name + "=" + value));
    command.addAll(argv);
    return command;
  }

  /** The whole environment of the root-owned part of the switch ({@code setpriv}, {@code env}): a PATH to find them. */
  static final Map<String, String> SWITCH_ENVIRONMENT = Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");

  /** Why this user could read {@code file} (its owner, its group, or everyone may), or null when it cannot. */
  String canRead(Path file) throws IOException {
    int owner = (Integer) Files.getAttribute(file, "unix:uid");
    int group = (Integer) Files.getAttribute(file, "unix:gid");
    int mode = (Integer) Files.getAttribute(file, "unix:mode");
    if (owner == uid) {
      // whatever its mode: an owner may change it
      return "it is owned by the CLI's uid " + uid;
    }
    if (group == gid && (mode & 0040) != 0) {
      return "it is readable by its group, the CLI's gid " + gid;
    }
    if ((mode & 0004) != 0) {
      return "it is readable by everyone (mode " + Integer.toOctalString(mode & 0777) + ")";
    }
    return null;
  }

  /**
   * Makes {@code dir} itself (not what is in it) this user's when it is not yet: a new volume's root is root's, and
   * the CLI must write its home there. Needs the CHOWN capability.
   *
   * @return whether it changed the owner
   */
  boolean own(Path dir) throws IOException {
    if ((Integer) Files.getAttribute(dir, "unix:uid") == uid && (Integer) Files.getAttribute(dir, "unix:gid") == gid) {
      return false;
    }
    Files.setAttribute(dir, "unix:uid", uid);
    Files.setAttribute(dir, "unix:gid", gid);
    return true;
  }

  /** How many times {@link #killAll} looks again for processes of the uid (a process may fork while it kills). */
  static final int KILL_ROUNDS = 100;

  /**
   * Kills (SIGKILL) every process that runs as this uid ({@link #processes}), and looks again until none is left, at
   * most {@link #KILL_ROUNDS} times: what the CLI started and moved away from its tree (a double fork,
   * {@code setsid}) is still of its uid, and nothing else runs as that uid in the pod.
   *
   * @return whether none was left (false: some still ran after the last round)
   */
  boolean killAll() {
    for (int round = 0; round < KILL_ROUNDS; round++) {
      List<ProcessHandle> left = processes();
      if (left.isEmpty()) {
        return true;
      }
      left.forEach(ProcessHandle::destroyForcibly);
      try {
        // A pause, not onExit(): waiting on another's process takes a new thread, which a fork bomb may deny.
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return processes().isEmpty();
  }

  /**
   * The live processes whose real or effective uid is this one (a zombie is dead already), and that run under this
   * runner or are orphans (their parent is pid 1, where a process that left its tree goes). In a pod that is every
   * process of the uid; on a machine shared with other runners (tests), it keeps a kill from reaching another
   * runner's CLI. A child of an orphan is found in the next round, once its parent is killed. Each handle is taken
   * before its uid is read: the handle knows its process's start time, so a kill never reaches a later process that
   * got the same pid.
   */
  List<ProcessHandle> processes() {
    List<ProcessHandle> found = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> all = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path dir : all) {
        ProcessHandle.of(Long.parseLong(dir.getFileName().toString())).ifPresent(h -> {
          if (runsAsThisUid(dir) && orphanOrUnder(h, self)) {
            found.add(h);
          }
        });
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the processes in /proc", e);
    }
    return found;
  }

  private static boolean orphanOrUnder(ProcessHandle p, long ancestor) {
    Optional<ProcessHandle> parent = p.parent();
    if (parent.isPresent() && parent.get().pid() == 1) {
      return true;
    }
    for (; parent.isPresent(); parent = parent.get().parent()) {
      if (parent.get().pid() == ancestor) {
        return true;
      }
    }
    return false;
  }

  private boolean runsAsThisUid(Path proc) {
    try {
      boolean uidMatches = false;
      boolean dead = false;
      for (String line : Files.readAllLines(proc.resolve("status"))) {
        if (line.startsWith("State:")) {
          char state = line.substring(6).trim().charAt(0);
          dead = state == 'Z' || state == 'X';
        } else if (line.startsWith("Uid:")) {
          String[] ids = line.substring(4).trim().split("\\s+");
          uidMatches = Integer.parseInt(ids[0]) == uid || Integer.parseInt(ids[1]) == uid;
        }
      }
      return uidMatches && !dead;
    } catch (IOException | RuntimeException e) {
      return false; // it ended while we looked
    }
  }

  /** The effective uid of this process, from /proc/self/status. */
  static int effectiveUid() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Uid:")) {
        return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
      }
    }
    throw new IOException("/proc/self/status has no Uid line");
  }
}
