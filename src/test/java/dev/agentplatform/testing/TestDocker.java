package dev.agentplatform.testing;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The tests' own Docker Engine (started by the build with scripts/docker-engine before the integration tests):
 * a client to look at what the platform made, the engine's stop and start for failure tests, and the clean-up
 * that leaves no container of a test behind.
 */
public final class TestDocker implements AutoCloseable {

  public final DockerClient client;
  private final Path dir;
  private final String script;

  public TestDocker() {
    dir = Path.of(System.getProperty("it.docker.dir", "target/docker-engine")).toAbsolutePath();
    script = System.getProperty("it.docker.script", "scripts/docker-engine");
    var config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host()).build();
    client = DockerClientImpl.getInstance(config, new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost()).connectionTimeout(Duration.ofSeconds(5))
        .responseTimeout(Duration.ofSeconds(60)).build());
  }

  /** DOCKER_HOST for the platform. */
  public String host() {
    return "unix://" + dir.resolve("docker.sock");
  }

  public static String image() {
    return System.getProperty("it.docker.image", "agent-platform-agent:2.1.328");
  }

  /** The server's image, as containers/server/build-local made it for the tests (the Containerfile's equivalent). */
  public static String serverImage() {
    return System.getProperty("it.server.image", "agent-platform:0.1.0-SNAPSHOT");
  }

  /** The platform's containers with this name prefix (running or not). */
  public List<Container> containers(String prefix) {
    return client.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of("dev.agentplatform.platform", prefix)).exec();
  }

  /** The platform's containers of one user. */
  public List<Container> containersOf(String prefix, String user) {
    return client.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of("dev.agentplatform.platform", prefix, "dev.agentplatform.user", user)).exec();
  }

  public InspectContainerResponse inspect(String id) {
    return client.inspectContainerCmd(id).exec();
  }

  /** A file of a Docker volume, read on the host (the tests run where the engine keeps its volumes). */
  public String readVolumeFile(String volume, String path) throws IOException {
    Path root = Path.of(client.inspectVolumeCmd(volume).exec().getMountpoint());
    return Files.readString(root.resolve(path), StandardCharsets.UTF_8);
  }

  /** Runs a command in a container (as its user) and returns what it printed. */
  public String exec(String container, String... command) throws InterruptedException {
    String id = client.execCreateCmd(container).withAttachStdout(true).withAttachStderr(true).withCmd(command)
        .exec().getId();
    StringBuilder out = new StringBuilder();
    client.execStartCmd(id).exec(new ResultCallback.Adapter<Frame>() {
      @Override
      public void onNext(Frame frame) {
        synchronized (out) {
          out.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
        }
      }
    }).awaitCompletion(30, TimeUnit.SECONDS);
    synchronized (out) {
      return out.toString();
    }
  }

  /** Whether a path exists in a Docker volume (read on the host). */
  public boolean volumePathExists(String volume, String path) {
    return Files.exists(Path.of(client.inspectVolumeCmd(volume).exec().getMountpoint()).resolve(path));
  }

  /** Stops the engine (and with it every container). */
  public void stopEngine() throws Exception {
    run("stop");
  }

  public void startEngine() throws Exception {
    run("start");
  }

  private void run(String command) throws Exception {
    Process p = new ProcessBuilder("bash", script, command, dir.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("docker-engine " + command + " failed: " + out);
    }
  }

  /** Removes every container and volume of this prefix; returns how many containers there were. */
  public int removeAll(String prefix) {
    List<Container> all = containers(prefix);
    for (Container c : all) {
      client.removeContainerCmd(c.getId()).withForce(true).exec();
    }
    client.listVolumesCmd().withFilter("label", List.of("dev.agentplatform.platform=" + prefix)).exec().getVolumes()
        .forEach(v -> client.removeVolumeCmd(v.getName()).exec());
    return all.size();
  }

  @Override
  public void close() throws IOException {
    client.close();
  }
}
