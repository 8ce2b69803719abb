package dev.agentplatform.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Sizes in the configuration read the way Docker's own flags do, and a bad one says which key and why. */
class PlatformConfigTest {

  @Test
  void sizesTakeTheUsualSuffixes() {
    assertEquals(4L << 30, PlatformConfig.parseBytes("DOCKER_MEMORY", "4g"));
    assertEquals(512L << 20, PlatformConfig.parseBytes("DOCKER_MEMORY", " 512M "));
    assertEquals(64L << 10, PlatformConfig.parseBytes("DOCKER_MEMORY", "64kb"));
    assertEquals(1000L, PlatformConfig.parseBytes("DOCKER_MEMORY", "1000"));
  }

  @Test
  void theContainersUserIsNeverRoot() {
    PlatformConfig config = new PlatformConfig();
    config.dockerUser = " 1000:1000 ";
    assertEquals("1000:1000", config.dockerUser());
    for (String root : new String[] {"0", "0:0", "00:1000", "root", "root:root", "", ":1000"}) {
      config.dockerUser = root;
      IllegalStateException e = assertThrows(IllegalStateException.class, config::dockerUser, root);
      assertTrue(e.getMessage().startsWith("DOCKER_USER must be a non-root user"), e.getMessage());
    }
  }

  @Test
  void aBadSizeNamesTheKey() {
    for (String bad : new String[] {"", "lots", "4 g", "-1g", "1.5g", "4t"}) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> PlatformConfig.parseBytes("DOCKER_MEMORY", bad), bad);
      assertTrue(e.getMessage().startsWith("DOCKER_MEMORY must be a size such as 512m or 4g"), e.getMessage());
    }
  }

  @Test
  void theSandboxIsOneOfThreeAndABadOneNamesTheKey() {
    PlatformConfig config = new PlatformConfig();
    config.sandbox = " Bubblewrap ";
    assertEquals("bubblewrap", config.sandbox());
    config.sandbox = "firejail";
    IllegalStateException e = assertThrows(IllegalStateException.class, config::sandbox);
    assertEquals("SANDBOX must be auto, bubblewrap or none, not 'firejail'", e.getMessage());
  }

  @Test
  void sandboxSettingsAreKubernetesValuesAndABadOneNamesTheKey() {
    PlatformConfig config = new PlatformConfig();
    config.sandboxCpu = " 500m ";
    config.sandboxMemory = "1Gi";
    config.sandboxStorageSize = "5Gi";
    config.sandboxNamespace = "agent-sandboxes";
    config.sandboxRuntimeClass = java.util.Optional.empty();
    config.sandboxStorageClass = " ";
    config.sandboxRunnerPort = 8888;
    assertEquals("500m", config.sandboxCpu());
    assertEquals("1Gi", config.sandboxMemory());
    assertEquals("5Gi", config.sandboxStorageSize());
    assertEquals("", config.sandboxRuntimeClass(), "empty: the cluster's default runtime");
    assertEquals("", config.sandboxStorageClass(), "empty: the cluster's default class");
    assertEquals(8888, config.sandboxRunnerPort());
    config.sandboxRuntimeClass = java.util.Optional.of(" gvisor ");
    assertEquals("gvisor", config.sandboxRuntimeClass());

    for (String bad : new String[] {"0", "0m", "half", "1.5Gi", "-1"}) {
      config.sandboxCpu = bad;
      IllegalStateException e = assertThrows(IllegalStateException.class, config::sandboxCpu, bad);
      assertTrue(e.getMessage().startsWith("SANDBOX_CPU must be a positive Kubernetes quantity"), e.getMessage());
    }
    for (String bad : new String[] {"1g", "0Gi", "lots", ""}) {
      config.sandboxMemory = bad;
      IllegalStateException e = assertThrows(IllegalStateException.class, config::sandboxMemory, bad);
      assertTrue(e.getMessage().startsWith("SANDBOX_MEMORY must be"), e.getMessage());
    }
    config.sandboxStorageSize = "5";
    assertThrows(IllegalStateException.class, config::sandboxStorageSize, "a size without a unit");
    config.sandboxInstallation = "staging";
    assertEquals("staging", config.sandboxInstallation());
    config.sandboxInstallation = "Staging One";
    IllegalStateException installation = assertThrows(IllegalStateException.class, config::sandboxInstallation);
    assertTrue(installation.getMessage().startsWith("SANDBOX_INSTALLATION must be a DNS label"),
        installation.getMessage());
    config.sandboxNamespace = "Agent_Sandboxes";
    IllegalStateException ns = assertThrows(IllegalStateException.class, config::sandboxNamespace);
    assertTrue(ns.getMessage().startsWith("SANDBOX_NAMESPACE must be a DNS label"), ns.getMessage());
    config.sandboxRunnerPort = 80;
    assertThrows(IllegalStateException.class, config::sandboxRunnerPort, "a privileged port");
  }

  @Test
  void sandboxWorkspaceIsAnAbsolutePathWithoutDotSegments() {
    PlatformConfig config = new PlatformConfig();
    config.sandboxWorkspace = " /workspace ";
    assertEquals("/workspace", config.sandboxWorkspace());
    config.sandboxWorkspace = "/srv/agent/workspace";
    assertEquals("/srv/agent/workspace", config.sandboxWorkspace());
    for (String bad : new String[] {"workspace", "/", "", "/workspace/", "/srv/../etc", "/srv/./w"}) {
      config.sandboxWorkspace = bad;
      IllegalStateException e = assertThrows(IllegalStateException.class, config::sandboxWorkspace, bad);
      assertTrue(e.getMessage().startsWith("SANDBOX_WORKSPACE must be an absolute path"), e.getMessage());
    }
  }
}
