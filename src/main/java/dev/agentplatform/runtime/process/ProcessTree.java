package dev.agentplatform.runtime.process;

import java.util.ArrayList;
import java.util.List;

/** Ends a process together with every process it started (the CLI's tools: shells, builds, servers). */
final class ProcessTree {

  private ProcessTree() {
  }

  /** Kills the root and all of its descendants at once (SIGKILL), snapshotting the tree first. */
  static void kill(ProcessHandle root) {
    List<ProcessHandle> all = new ArrayList<>();
    all.add(root);
    root.descendants().forEach(all::add);
    all.forEach(ProcessHandle::destroyForcibly);
    // A child may have forked between the snapshot and the kill: sweep what is still attached.
    for (ProcessHandle h : all) {
      h.descendants().forEach(ProcessHandle::destroyForcibly);
    }
  }
}
