package dev.agentplatform.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What the benchmarks share: percentiles, the machine line, and writing one section of docs/benchmarks.md. */
final class BenchReport {

  static final Path FILE = Path.of("docs/benchmarks.md");

  private BenchReport() {
  }

  /** The value at percentile {@code p} (0–100) of {@code sorted}, nearest rank. */
  static double percentile(List<Double> sorted, double p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.min(sorted.size() - 1, Math.max(0, rank - 1)));
  }

  static List<Double> sorted(List<Double> values) {
    List<Double> v = new ArrayList<>(values);
    Collections.sort(v);
    return v;
  }

  /** "median (min–max)" of the values, in milliseconds with one decimal. */
  static String medianRange(List<Double> values) {
    List<Double> v = sorted(values);
    return String.format("%.1f (%.1f–%.1f)", percentile(v, 50), v.get(0), v.get(v.size() - 1));
  }

  /** The date and the machine, with its load average at the end of the run (other work skews the figures). */
  static String machine() {
    String load;
    try {
      load = ", load average " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0] + " at the end";
    } catch (Exception e) {
      load = "";
    }
    return "measured " + LocalDate.now() + " on " + Runtime.getRuntime().availableProcessors() + " cores, "
        + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", Java "
        + System.getProperty("java.version") + load;
  }

  /**
   * Replaces the section {@code ## title} of docs/benchmarks.md (up to the next {@code ## } heading) with
   * {@code body}, or adds it at the end. TurnBenchmark rewrites the file up to "Reading these figures" and keeps
   * the rest, so sections added at the end outlive its runs.
   */
  static void writeSection(String title, String body) throws Exception {
    String heading = "## " + title + "\n";
    String text = Files.exists(FILE) ? Files.readString(FILE) : "# Benchmarks\n";
    String section = heading + "\n" + body.strip() + "\n";
    int at = text.indexOf("\n" + heading);
    if (at < 0) {
      text = text.stripTrailing() + "\n\n" + section;
    } else {
      int next = text.indexOf("\n## ", at + heading.length());
      text = text.substring(0, at + 1) + section + (next < 0 ? "" : text.substring(next));
    }
    Files.writeString(FILE, text);
  }
}
