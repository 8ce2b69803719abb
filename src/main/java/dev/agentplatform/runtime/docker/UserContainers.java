package dev.agentplatform.runtime.docker;

import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.api.model.Volume;
import dev.agentplatform.error.PlatformException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The users' containers: found by name or made (with the user's volume, limits and labels), started when stopped,
 * stopped when idle and removed after a longer idle time; at start-up, the platform's leftover containers are
 * adopted when they are current and removed otherwise.
 */
final class UserContainers {

  private static final Logger LOG = Logger.getLogger(UserContainers.class.getName());
  static final String LABEL_PLATFORM = "dev.agentplatform.platform";
  static final String LABEL_USER = "dev.agentplatform.user";
  static final String LABEL_VERSION = "dev.agentplatform.version";
  /**
   * What a user's container runs: it only waits, and each CLI is an exec in it. Named here, not taken from the image,
   * whose command is the kubernetes runtime's runner; as the entrypoint it also keeps the image's CMD from being
   * appended (Docker adds the image's CMD only to an entrypoint it took from the image).
   */
  static final List<String> COMMAND = List.of("sleep", "infinity");

  private final DockerEngine engine;
  private final DockerSettings settings;
  private final ToLongFunction<String> liveClis;
  private final Map<String, Box> boxes = new ConcurrentHashMap<>();

  /**
   * @param liveClis how many CLIs of a user run now (a container with any is never idle)
   */
  UserContainers(DockerEngine engine, DockerSettings settings, ToLongFunction<String> liveClis) {
    this.engine = engine;
    this.settings = settings;
    this.liveClis = liveClis;
  }

  /** A running container of a user. */
  record Running(String id, String name) {
  }

  /** The container's name for a user: the prefix and a digest of the user id (which may hold any character). */
  String nameOf(String userId) {
    return settings.prefix() + "-user-" + key(userId);
  }

  String volumeOf(String userId) {
    return settings.prefix() + "-home-" + key(userId);
  }

  /** The user's container, running: started if stopped, made if missing or made from another image. */
  Running ensure(String userId, String imageId) {
    Box box = boxes.computeIfAbsent(userId, Box::new);
    synchronized (box) {
      box.lastUsed = System.nanoTime();
      String name = nameOf(userId);
      InspectContainerResponse container = inspect(name);
      if (container != null && !settings.prefix().equals(label(container, LABEL_PLATFORM))) {
        throw PlatformException.unavailable("a container named " + name + " exists that this platform did not make"
            + " (no label " + LABEL_PLATFORM + "=" + settings.prefix() + "): remove it or set DOCKER_CONTAINER_PREFIX",
            null);
      }
      if (container != null && !imageId.equals(container.getImageId()) && liveClis.applyAsLong(userId) == 0) {
        LOG.info("replacing the container " + name + ": it runs an older build of " + settings.image());
        remove(container.getId());
        container = null;
      }
      if (container == null) {
        container = create(userId, name);
      }
      if (!Boolean.TRUE.equals(container.getState().getRunning())) {
        try {
          engine.calls().startContainerCmd(container.getId()).exec();
        } catch (NotModifiedException e) {
          // started meanwhile
        }
      }
      box.containerId = container.getId();
      box.stoppedAt = null;
      return new Running(container.getId(), name);
    }
  }

  private InspectContainerResponse create(String userId, String name) {
    String volume = volumeOf(userId);
    Map<String, String> labels = Map.of(LABEL_PLATFORM, settings.prefix(), LABEL_USER, userId,
        LABEL_VERSION, settings.platformVersion());
    try {
      engine.calls().inspectVolumeCmd(volume).exec();
    } catch (NotFoundException e) {
      engine.calls().createVolumeCmd().withName(volume).withLabels(labels).exec();
    }
    HostConfig host = HostConfig.newHostConfig()
        .withBinds(new Bind(volume, new Volume(settings.workspaceRoot())))
        .withMemory(settings.memoryBytes())
        .withMemorySwap(settings.memoryBytes())
        .withNanoCPUs(settings.nanoCpus())
        .withPidsLimit(settings.pidsLimit())
        .withPrivileged(false)
        .withCapDrop(Capability.ALL)
        .withSecurityOpts(List.of("no-new-privileges"))
        .withReadonlyRootfs(true)
        .withTmpFs(Map.of("/tmp", "rw,nosuid,nodev,size=512m"))
        .withNetworkMode(settings.network())
        .withInit(true)
        .withRestartPolicy(RestartPolicy.noRestart());
    try {
      CreateContainerResponse created = engine.calls().createContainerCmd(settings.image()).withName(name)
          .withLabels(labels).withUser(settings.user()).withWorkingDir(settings.workspaceRoot())
          .withEntrypoint(COMMAND).withHostConfig(host).exec();
      LOG.info("made the container " + name + " for user " + userId + " from " + settings.image());
      return engine.calls().inspectContainerCmd(created.getId()).exec();
    } catch (NotFoundException e) {
      throw imageMissing();
    } catch (ConflictException e) {
      // Another thread or server made it first.
      InspectContainerResponse existing = inspect(name);
      if (existing == null) {
        throw e;
      }
      return existing;
    }
  }

  /** The typed error for an image the engine does not have. */
  PlatformException imageMissing() {
    return PlatformException.unavailable("the agent image '" + settings.image() + "' is not in the Docker Engine at "
        + settings.host() + ": build it (docker build -f containers/agent/Containerfile -t " + settings.image()
        + " .) or set DOCKER_IMAGE",
        null);
  }

  private InspectContainerResponse inspect(String name) {
    try {
      return engine.calls().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      return null;
    }
  }

  private void remove(String containerId) {
    try {
      engine.calls().removeContainerCmd(containerId).withForce(true).exec();
    } catch (NotFoundException e) {
      // already gone
    }
  }

  /** Stops the containers of users idle for {@code DOCKER_IDLE_STOP_SECONDS}; removes those stopped for longer. */
  void reap() {
    long now = System.nanoTime();
    for (Box box : boxes.values()) {
      synchronized (box) {
        if (liveClis.applyAsLong(box.userId) > 0) {
          box.lastUsed = now;
          continue;
        }
        try {
          if (box.stoppedAt == null && box.containerId != null
              && now - box.lastUsed > settings.idleStop().toNanos()) {
            LOG.info("stopping the idle container " + nameOf(box.userId));
            try {
              engine.calls().stopContainerCmd(box.containerId).withTimeout(5).exec();
            } catch (NotModifiedException e) {
              // already stopped
            }
            box.stoppedAt = Instant.now();
          } else if (box.stoppedAt != null
              && Instant.now().isAfter(box.stoppedAt.plus(settings.idleRemove()))) {
            LOG.info("removing the container " + nameOf(box.userId) + ", stopped since " + box.stoppedAt
                + " (its volume " + volumeOf(box.userId) + " stays)");
            remove(box.containerId);
            boxes.remove(box.userId, box);
          }
        } catch (NotFoundException e) {
          boxes.remove(box.userId, box);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "could not stop or remove the idle container " + nameOf(box.userId), e);
        }
      }
    }
  }

  /**
   * Takes over the containers a previous server left: current ones (same platform version and image) are kept,
   * with whatever CLIs the old server left in them ended; others are removed (their volumes stay).
   */
  void adopt(String imageId) {
    List<Container> leftovers = engine.calls().listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(LABEL_PLATFORM, settings.prefix())).exec();
    int adopted = 0;
    int removed = 0;
    for (Container c : leftovers) {
      String userId = c.getLabels().get(LABEL_USER);
      boolean current = userId != null && settings.platformVersion().equals(c.getLabels().get(LABEL_VERSION))
          && imageId.equals(c.getImageId()) && List.of(c.getNames()).contains("/" + nameOf(userId));
      if (!current) {
        LOG.info("removing the leftover container " + String.join(",", c.getNames()) + " (version "
            + c.getLabels().get(LABEL_VERSION) + ", image " + c.getImage() + ")");
        remove(c.getId());
        removed++;
        continue;
      }
      Box box = boxes.computeIfAbsent(userId, Box::new);
      synchronized (box) {
        box.containerId = c.getId();
        if ("running".equals(c.getState())) {
          box.lastUsed = System.nanoTime();
          box.stoppedAt = null;
          try {
            ExecCli.killMarked(engine, c.getId(), settings.user(), null);
          } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not end the CLIs left in " + nameOf(userId), e);
          }
        } else {
          box.stoppedAt = finishedAt(c.getId());
        }
      }
      adopted++;
    }
    if (adopted + removed > 0) {
      LOG.info("start-up: adopted " + adopted + " container(s) of this platform and removed " + removed);
    }
  }

  private Instant finishedAt(String containerId) {
    try {
      return Instant.parse(engine.calls().inspectContainerCmd(containerId).exec().getState().getFinishedAt());
    } catch (RuntimeException e) {
      return Instant.now();
    }
  }

  /** Whether the user has a volume (and so workspaces) at all. */
  boolean hasVolume(String userId) {
    try {
      engine.calls().inspectVolumeCmd(volumeOf(userId)).exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  private static String label(InspectContainerResponse container, String key) {
    Map<String, String> labels = container.getConfig().getLabels();
    return labels == null ? null : labels.get(key);
  }

  private static String key(String userId) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(userId.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the platform knows of one user's container. */
  private static final class Box {
    final String userId;
    String containerId;
    volatile long lastUsed = System.nanoTime();
    Instant stoppedAt;

    Box(String userId) {
      this.userId = userId;
    }
  }
}
