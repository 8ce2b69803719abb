package dev.agentplatform.runtime.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The bubblewrap ({@code bwrap}) command line that shuts one agent's CLI into a sandbox of its own: its workspace
 * read-write at its own path, the system and the CLI's own directory read-only, a private {@code /tmp}, its own
 * PID, IPC and UTS namespaces, no capabilities, a read-only root, and nothing else of the host (no data directory,
 * no other workspace, no view of other processes). The network stays shared: the model endpoint must be reachable.
 */
final class Bubblewrap {

  /** The system directories the CLI and common tools need, shown read-only (as symlinks where the host has them). */
  static final List<String> SYSTEM_DIRS = List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");

  /** The pieces of /etc that programs need to run, resolve names, verify TLS and know users; nothing else of it. */
  static final List<String> ETC_FILES = List.of("/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts",
      "/etc/host.conf", "/etc/resolv.conf", "/etc/gai.conf", "/etc/localtime", "/etc/timezone", "/etc/ld.so.cache",
      "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/ssl", "/etc/ca-certificates",
      "/etc/ca-certificates.conf", "/etc/pki", "/etc/crypto-policies", "/etc/gitconfig", "/etc/mime.types");

  private Bubblewrap() {
  }

  /**
   * The command up to and including {@code --}, after which the CLI's own argument list follows unchanged.
   *
   * @param workspace the agent's workspace, bound read-write at its own path and made the working directory (the
   *     CLI keys its {@code --resume} transcripts by that path); null for a check that needs none
   * @param cliDir the CLI's install directory, bound read-only; null when the system directories hold it
   */
  static List<String> arguments(Path bwrap, Path workspace, Path cliDir) {
    List<String> args = new ArrayList<>(List.of(bwrap.toString(),
        // A user namespace even when the server is root, with every capability dropped: the sandbox holds no
        // privilege on the host, and may not make namespaces of its own.
        "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        // With its own PID namespace, the death of the first process (the CLI) kills every process it left.
        "--die-with-parent",
        // No controlling terminal to push input into (TIOCSTI).
        "--new-session"));
    for (String dir : SYSTEM_DIRS) {
      Path p = Path.of(dir);
      if (Files.isSymbolicLink(p)) {
        try {
          args.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
        } catch (IOException e) {
          // unreadable link: leave it out
        }
      } else if (Files.isDirectory(p)) {
        args.addAll(List.of("--ro-bind", dir, dir));
      }
    }
    for (String file : ETC_FILES) {
      args.addAll(List.of("--ro-bind-try", file, file));
    }
    // /tmp first: the binds below may lie under it (a workspace root in /tmp) and must stay on top of it.
    args.addAll(List.of("--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"));
    Path parent = workspace == null ? null : workspace.getParent();
    boolean ownParent = parent != null && parent.getParent() != null;
    if (ownParent) {
      // An empty file system where the other workspaces would be, read-only below (after the binds): also where the
      // workspace root lies in /tmp, whose tmpfs is writable, another workspace's path holds nothing and takes nothing.
      args.addAll(List.of("--tmpfs", parent.toString()));
    }
    if (cliDir != null && !isSystem(cliDir)) {
      args.addAll(List.of("--ro-bind", cliDir.toString(), cliDir.toString()));
    }
    if (workspace != null) {
      args.addAll(List.of("--bind", workspace.toString(), workspace.toString()));
    }
    if (ownParent) {
      args.addAll(List.of("--remount-ro", parent.toString()));
    }
    // Last: the sandbox's own root (where bwrap made the directories on the way to the binds) read-only, so an agent
    // cannot even make a look-alike of another agent's workspace there; the mounts on it keep their own modes.
    args.addAll(List.of("--remount-ro", "/", "--chdir", workspace != null ? workspace.toString() : "/", "--"));
    return args;
  }

  /**
   * The directory of the CLI to show in the sandbox: its npm package when it is one (a native binary in
   * {@code node_modules/@anthropic-ai/claude-code/bin}, or a script beside its package files), else the directory
   * of the file itself. Never a wider directory: the checkout that holds {@code .tools/} may also hold {@code .data/}.
   */
  static Path installDir(Path cliRealPath) {
    for (Path p = cliRealPath.getParent(); p != null && p.getParent() != null; p = p.getParent()) {
      Path parent = p.getParent();
      boolean inNodeModules = parent.getFileName() != null && parent.getFileName().toString().equals("node_modules");
      boolean scoped = parent.getFileName() != null && parent.getFileName().toString().startsWith("@")
          && parent.getParent() != null && parent.getParent().getFileName() != null
          && parent.getParent().getFileName().toString().equals("node_modules");
      if (inNodeModules || scoped) {
        return p;
      }
    }
    return cliRealPath.getParent();
  }

  /** Whether a path lies in what every sandbox shows read-only (the system directories and /etc pieces). */
  static boolean isSystem(Path path) {
    Path p = path.toAbsolutePath().normalize();
    return SYSTEM_DIRS.stream().anyMatch(d -> p.startsWith(d)) || ETC_FILES.stream().anyMatch(f -> p.startsWith(f));
  }

  /**
   * Why the sandbox could not hide a directory of the platform's (the workspace root, the data directory), or
   * empty when it can: a sandbox that shows the CLI's directory or the system read-only would show it too.
   */
  static Optional<String> exposes(Path dir, Path cliDir) {
    Path p = dir.toAbsolutePath().normalize();
    if (isSystem(p)) {
      return Optional.of(p + " lies in a system directory every sandbox shows read-only");
    }
    if (cliDir != null && p.startsWith(cliDir)) {
      return Optional.of(p + " lies in the CLI's directory " + cliDir + ", which every sandbox shows read-only");
    }
    return Optional.empty();
  }
}
