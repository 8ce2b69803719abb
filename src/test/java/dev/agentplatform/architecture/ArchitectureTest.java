package dev.agentplatform.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The package rules hold: each package uses only what its {@code package-info.java} says it may, and no two
 * top-level packages depend on each other, directly or round a longer cycle.
 */
class ArchitectureTest {

  private static final String ROOT = "dev.agentplatform";
  private static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages(ROOT);

  @Test
  void everyPackageUsesOnlyWhatItsPackageInfoAllows() {
    PackageRules rules = PackageRules.read(Path.of("src/main/java"), ROOT);
    assertEquals(List.of(), rules.unknownNames(), "every package a statement names exists");
    List<String> violations = rules.violations(MAIN);
    assertTrue(violations.isEmpty(), () -> violations.size() + " dependencies no package-info allows:\n"
        + String.join("\n", violations));
  }

  @Test
  void topLevelPackagesHaveNoCycles() {
    slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(MAIN);
  }

  /**
   * Every {@code jakarta.json.Json.create...} call looks the JSON provider up through the service loader, which in
   * Liberty scans the application's class loaders: measured at about 2 ms of CPU per streamed event before the
   * provider was kept. Classes keep one {@code JsonProvider} instead.
   */
  @Test
  void nothingLooksTheJsonProviderUpPerCall() {
    noClasses().should().accessClassesThat().haveFullyQualifiedName("jakarta.json.Json")
        .because("Json's static factories look the provider up on every call; keep a JsonProvider")
        .check(MAIN);
  }
}
