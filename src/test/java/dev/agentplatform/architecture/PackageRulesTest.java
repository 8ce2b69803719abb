package dev.agentplatform.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rule checker itself: it reads the statements as written and fails on a deliberately bad class set. */
class PackageRulesTest {

  private static final String FIXTURE = "dev.agentplatform.architecture.fixture";
  private static final JavaClasses BAD = new ClassFileImporter().importPackages(FIXTURE);

  @Test
  void aCoreClassThatNamesItsAdapterIsReported() {
    PackageRules rules = new PackageRules(FIXTURE, Map.of("domain", Set.of(), "adapter", Set.of("domain")));
    assertEquals(List.of("domain may depend on nothing, but " + FIXTURE + ".domain.Order uses " + FIXTURE
        + ".adapter.OrderTable (adapter)"), rules.violations(BAD));
  }

  @Test
  void allowedDependenciesPassAndAMissingStatementIsReported() {
    PackageRules rules = new PackageRules(FIXTURE, Map.of("domain", Set.of("adapter"), "adapter", Set.of("domain")));
    assertEquals(List.of(), rules.violations(BAD));
    PackageRules silent = new PackageRules(FIXTURE, Map.of("adapter", Set.of("domain")));
    assertEquals(List.of("domain: has no package-info.java saying what it may depend on"), silent.violations(BAD));
  }

  @Test
  void aCycleFailsEvenWhenEachStatementAllowsIt() {
    AssertionError e = assertThrows(AssertionError.class,
        () -> slices().matching(FIXTURE + ".(*)..").should().beFreeOfCycles().check(BAD));
    assertTrue(e.getMessage().contains("Cycle detected"), e.getMessage());
  }

  @Test
  void statementsAreReadAsWritten() {
    assertEquals(Set.of("store", "runtime.cli", "config"), PackageRules.parse("x",
        "/**\n * Adapters ({@code a.b}) live here. Depends on store, runtime.cli and config (for {@link\n"
            + " * dev.agentplatform.config.Secrets}).\n */\npackage x;"));
    assertEquals(Set.of(), PackageRules.parse("x", "/** Small things; depends on nothing else in the platform. */"));
    assertEquals(PackageRules.EVERY, PackageRules.parse("x", "/** The root. May depend on every package. */"));
    IllegalArgumentException silent = assertThrows(IllegalArgumentException.class,
        () -> PackageRules.parse("x", "/** Says nothing about its dependencies. */"));
    assertTrue(silent.getMessage().contains("does not say what it depends on"), silent.getMessage());
  }
}
