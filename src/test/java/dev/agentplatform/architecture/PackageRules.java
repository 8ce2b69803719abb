package dev.agentplatform.architecture;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The dependency rules each {@code package-info.java} states ("Depends on store, agent and error."), read from the
 * sources, and the check of compiled classes against them.
 *
 * @param root the packages' common prefix, e.g. {@code dev.agentplatform}
 * @param allowed for each package (relative to the root, e.g. {@code store.sqlite}), the packages it may use;
 *     {@link #EVERY} for one that may use every package
 */
record PackageRules(String root, Map<String, Set<String>> allowed) {

  /** Stands for "may depend on every package". */
  static final Set<String> EVERY = Set.of("*");

  private static final Pattern STATEMENT = Pattern.compile(
      "(?is)\\b(may depend on|depends on)\\s+(.+?)\\.(?=\\s|$)");

  /** Reads the statement of every {@code package-info.java} under {@code sourceRoot}. */
  static PackageRules read(Path sourceRoot, String root) {
    Path base = sourceRoot.resolve(root.replace('.', '/'));
    Map<String, Set<String>> allowed = new TreeMap<>();
    try (Stream<Path> files = Files.walk(base)) {
      for (Path info : files.filter(f -> f.getFileName().toString().equals("package-info.java")).toList()) {
        String pkg = base.relativize(info.getParent()).toString().replace('/', '.');
        allowed.put(pkg, parse(pkg, Files.readString(info)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new PackageRules(root, allowed);
  }

  /** The packages a package-info's Javadoc says its package may depend on. */
  static Set<String> parse(String pkg, String source) {
    int start = source.indexOf("/**");
    int end = source.indexOf("*/", start);
    if (start < 0 || end < 0) {
      throw new IllegalArgumentException(pkg + ": its package-info.java has no Javadoc");
    }
    String doc = source.substring(start + 3, end).replaceAll("\\{@\\w+\\s+([^}]*)}", "$1")
        .replaceAll("(?m)^\\s*\\*", " ").replaceAll("\\s+", " ").trim();
    Matcher m = STATEMENT.matcher(doc);
    if (!m.find()) {
      throw new IllegalArgumentException(pkg + ": its package-info.java does not say what it depends on"
          + " (\"Depends on a, b and c.\" or \"Depends on nothing else in the platform.\")");
    }
    String list = m.group(2).replaceAll("\\([^)]*\\)", " ").trim();
    if (list.equals("every package")) {
      return EVERY;
    }
    if (list.startsWith("nothing")) {
      return Set.of();
    }
    Set<String> out = new LinkedHashSet<>();
    for (String name : list.split(",|\\band\\b")) {
      String n = name.trim();
      if (!n.matches("[a-z]+(\\.[a-z]+)*")) {
        throw new IllegalArgumentException(
            pkg + ": '" + n + "' in \"" + m.group(0).trim() + "\" is not a package name");
      }
      out.add(n);
    }
    return out;
  }

  /** Every dependency of a class on another platform package that its package's statement does not allow. */
  List<String> violations(JavaClasses classes) {
    Set<String> out = new TreeSet<>();
    for (JavaClass c : classes) {
      String from = relative(c.getPackageName());
      if (from == null) {
        continue;
      }
      Set<String> may = allowed.get(from);
      if (may == null) {
        out.add(from + ": has no package-info.java saying what it may depend on");
        continue;
      }
      if (may == EVERY) {
        continue;
      }
      for (Dependency d : c.getDirectDependenciesFromSelf()) {
        String to = relative(d.getTargetClass().getBaseComponentType().getPackageName());
        if (to == null || to.equals(from) || may.contains(to)) {
          continue;
        }
        out.add(from + " may depend on " + (may.isEmpty() ? "nothing" : String.join(", ", may)) + ", but "
            + c.getName() + " uses " + d.getTargetClass().getBaseComponentType().getName() + " (" + to + ")");
      }
    }
    return new ArrayList<>(out);
  }

  /** Each rule's packages that have no package-info of their own (a statement naming a package that is not there). */
  List<String> unknownNames() {
    List<String> out = new ArrayList<>();
    allowed.forEach((pkg, may) -> may.stream().filter(n -> !n.equals("*") && !allowed.containsKey(n))
        .forEach(n -> out.add(pkg + " names '" + n + "', which is no package")));
    return out;
  }

  /** The package relative to the root, or null for a class outside it. */
  private String relative(String pkg) {
    if (pkg.equals(root)) {
      return "";
    }
    return pkg.startsWith(root + ".") ? pkg.substring(root.length() + 1) : null;
  }

  static Set<String> of(String... names) {
    return new LinkedHashSet<>(Arrays.asList(names));
  }
}
