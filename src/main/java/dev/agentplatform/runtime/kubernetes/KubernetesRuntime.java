package dev.agentplatform.runtime.kubernetes;

import dev.agentplatform.error.PlatformException;
import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RunningTurn;
import dev.agentplatform.runtime.RuntimeEvent;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.runtime.TurnListener;
import dev.agentplatform.runtime.TurnRequest;
import dev.agentplatform.runtime.cli.CliCommand;
import dev.agentplatform.runtime.cli.CliConnection;
import dev.agentplatform.runtime.cli.CliSession;
import dev.agentplatform.runtime.cli.CliSessions;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs each agent in a sandbox pod of its own: the pod is made when the agent first needs its CLI (asynchronously,
 * its progress told to the waiting turn), deleted after {@code CLI_IDLE_SECONDS} without a message (its workspace
 * volume kept, so the next pod resumes the CLI session), and deleted with its volume and secret when the agent is.
 */
public final class KubernetesRuntime implements AgentRuntime {

  private static final Logger LOG = Logger.getLogger(KubernetesRuntime.class.getName());
  private static final long UP_TTL_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long DOWN_TTL_NANOS = TimeUnit.SECONDS.toNanos(5);
  /** What readiness and {@code send} say while no runner client is built in. */
  public static final String NO_CONNECTOR = "the runner client (PodConnector) that reaches the CLI in a sandbox pod"
      + " is not in this build yet: AGENT_RUNTIME=kubernetes cannot run turns";

  private final KubernetesSettings settings;
  private final SandboxPods pods;
  private final PodConnector connector;
  private final Predicate<String> agentExists;
  private final ExecutorService pool;
  private final CliSessions clis;
  private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  /**
   * Pods an earlier server left for agents that still exist, with when this server found them: taken over at the
   * agent's next need, else deleted once idle for {@code CLI_IDLE_SECONDS} (nobody else would ever delete them).
   */
  private final Map<String, Long> leftOver = new ConcurrentHashMap<>();
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private final AtomicBoolean cleaned = new AtomicBoolean();
  private final AtomicBoolean endsStarted = new AtomicBoolean();
  private volatile AutoCloseable ends;
  private final ScheduledFuture<?> reaper;
  private volatile Check check;

  /**
   * @param connector reaches the runner in a pod, or null while none is built in (readiness is then down)
   * @param agentExists whether an agent still exists (start-up removes the sandboxes of those that do not)
   * @param maxWarm the most CLIs kept at once (CLI_WARM_LIMIT; 0: no limit)
   */
  public KubernetesRuntime(KubernetesSettings settings, SandboxPods pods, PodConnector connector,
      Predicate<String> agentExists, ScheduledExecutorService scheduler, ExecutorService pool, int maxWarm) {
    this.settings = settings;
    this.pods = pods;
    this.connector = connector;
    this.agentExists = agentExists;
    this.pool = pool;
    this.clis = new CliSessions(maxWarm);
    long period = Math.max(1, Math.min(30, settings.cliIdle().toSeconds() / 2));
    this.reaper = scheduler.scheduleWithFixedDelay(() -> offThread(this::reap), period, period, TimeUnit.SECONDS);
    offThread(() -> check(true));
  }

  @Override
  public String name() {
    return "kubernetes";
  }

  @Override
  public Optional<String> sandbox() {
    return Optional.of("a pod per agent in namespace " + settings.namespace() + (settings.runtimeClass().isEmpty()
        ? " (the cluster's default container runtime)" : " under RuntimeClass " + settings.runtimeClass()));
  }

  @Override
  public RuntimeStatus status() {
    Check c = check;
    if (c == null) {
      return RuntimeStatus.down("asking the Kubernetes API server at " + pods.apiServer());
    }
    long ttl = c.status.available() ? UP_TTL_NANOS : DOWN_TTL_NANOS;
    if (System.nanoTime() - c.at >= ttl && refreshing.compareAndSet(false, true)) {
      offThread(() -> {
        try {
          check(true);
        } finally {
          refreshing.set(false);
        }
      });
    }
    return c.status;
  }

  /** Asks the API server whether it answers and what this platform may do in the sandbox namespace. */
  Check check(boolean fresh) {
    Check c = check;
    if (!fresh && c != null) {
      return c;
    }
    String refused = pods.whyUnusable();
    if (refused != null) {
      return remember(RuntimeStatus.down(refused));
    }
    if (cleaned.compareAndSet(false, true)) {
      try {
        int n = pods.cleanUp(agentExists);
        long now = System.nanoTime();
        pods.agentsWithPods().forEach(id -> leftOver.putIfAbsent(id, now));
        if (n > 0) {
          LOG.info("removed " + n + " sandbox objects of deleted agents or of other platform versions in namespace "
              + settings.namespace());
        }
      } catch (RuntimeException e) {
        cleaned.set(false);
        LOG.log(Level.WARNING, "could not look for sandboxes left by an earlier server", e);
      }
    }
    if (connector == null) {
      return remember(RuntimeStatus.down(NO_CONNECTOR));
    }
    if (settings.credentialsHint() != null) {
      return remember(RuntimeStatus.down(settings.credentialsHint()));
    }
    return remember(RuntimeStatus.ok("Kubernetes API server at " + pods.apiServer() + ", a sandbox pod per agent in"
        + " namespace " + settings.namespace() + " from " + settings.image()));
  }

  private Check remember(RuntimeStatus status) {
    Check c = new Check(status, System.nanoTime());
    check = c;
    return c;
  }

  @Override
  public RunningTurn start(TurnRequest request, TurnListener listener) {
    RuntimeStatus status = status();
    if (!status.available()) {
      throw PlatformException.unavailable(status.reason(), null);
    }
    synchronized (lock(request.agentId())) {
      Sandbox sandbox = sandboxFor(request);
      PodConnector.Runner runner = sandbox.ready.getNow(null);
      if (runner != null) {
        return clis.startTurn(request, r -> spawn(r, sandbox, runner), listener);
      }
      PendingTurn turn = new PendingTurn(request, listener, sandbox);
      turn.begin();
      return turn;
    }
  }

  /**
   * Takes up a turn an earlier server started, when the agent's pod is still ready and its runner still keeps the
   * turn's CLI: the turn's output is read again from its start through a new {@link CliSession}, which then stays the
   * agent's warm CLI. Empty when there is no such pod or turn, or the API server or runner cannot be reached.
   */
  @Override
  public Optional<RunningTurn> reattach(TurnRequest request, TurnListener listener) {
    if (connector == null) {
      return Optional.empty();
    }
    synchronized (lock(request.agentId())) {
      try {
        Optional<SandboxPods.ReadyPod> found = pods.readyRunner(request.agentId());
        if (found.isEmpty()) {
          return Optional.empty();
        }
        PodConnector.Runner runner = found.get().runner();
        Optional<CliConnection> connection = connector.reattach(runner, request.turnId());
        if (connection.isEmpty()) {
          return Optional.empty();
        }
        Sandbox sandbox = new Sandbox(request.ownerId(), request.agentId());
        becameReady(sandbox, found.get().pod(), runner);
        Sandbox before = sandboxes.put(request.agentId(), sandbox);
        if (before != null) {
          before.close("taken over");
        }
        leftOver.remove(request.agentId());
        CliSession.Resumed resumed = CliSession.resume(request.ownerId(), request.agentId(), request.settings(),
            connection.get(), settings.outputLimitBytes(), settings.secrets()::redact, clis::forget, listener);
        clis.adopt(resumed.session());
        LOG.info("took up turn " + request.turnId() + " of agent " + request.agentId() + " from its sandbox pod ("
            + resumed.session().describe() + ")");
        return Optional.of(resumed.turn());
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "could not take up turn " + request.turnId() + " of agent " + request.agentId()
            + " from its sandbox pod: " + rootMessage(e), e);
        return Optional.empty();
      }
    }
  }

  @Override
  public void prepare(TurnRequest request) {
    if (!status().available()) {
      return;
    }
    Sandbox sandbox;
    synchronized (lock(request.agentId())) {
      sandbox = sandboxFor(request);
    }
    sandbox.ready.thenAcceptAsync(runner -> {
      try {
        synchronized (lock(request.agentId())) {
          if (sandboxes.get(request.agentId()) == sandbox) {
            clis.prepare(request, r -> spawn(r, sandbox, runner));
          }
        }
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "could not start the CLI of agent " + request.agentId() + " ahead of its message", e);
      }
    }, this::offThread);
  }

  /** The agent's sandbox, made (on the pool) when it has none or its pod ended; called under the agent's lock. */
  private Sandbox sandboxFor(TurnRequest request) {
    Sandbox s = sandboxes.get(request.agentId());
    if (s != null && s.ready.isCompletedExceptionally()) {
      sandboxes.remove(request.agentId(), s);
      s = null;
    }
    if (s == null) {
      Sandbox made = new Sandbox(request.ownerId(), request.agentId());
      sandboxes.put(request.agentId(), made);
      offThread(() -> make(made));
      s = made;
    }
    s.lastUse = System.nanoTime();
    return s;
  }

  /** Takes over the agent's pod or makes one, then follows it until its runner is ready (or the pod ends). */
  private void make(Sandbox s) {
    try {
      String secret = pods.adoptable(s.agentId).orElse(null);
      if (secret == null) {
        secret = pods.create(s.ownerId, s.agentId, s::report);
      }
      String key = secret;
      AtomicBoolean seen = new AtomicBoolean();
      s.watch = pods.watch(s.agentId, pod -> {
        if (pod != null) {
          seen.set(true);
        }
        s.report(SandboxPods.detail(pod));
      }, pod -> SandboxPods.ready(pod) || (seen.get() && SandboxPods.ended(pod)));
      s.watch.whenComplete((list, error) -> {
        Pod pod = list == null || list.isEmpty() ? null : list.get(0);
        if (error != null) {
          s.ready.completeExceptionally(unavailable("watching the sandbox pod " + SandboxObjects.podName(s.agentId)
              + " failed: " + rootMessage(error), error));
        } else if (SandboxPods.ready(pod)) {
          becameReady(s, pod, pods.runner(pod, key));
        } else {
          s.ready.completeExceptionally(unavailable(SandboxPods.detail(pod), null));
        }
      });
    } catch (RuntimeException e) {
      s.ready.completeExceptionally(unavailable("could not make the sandbox pod of agent " + s.agentId + " in"
          + " namespace " + settings.namespace() + ": " + rootMessage(e), e));
    }
  }

  /**
   * The sandbox's pod is ready and its runner answers at {@code runner}: the pod's end is followed from now on (by its
   * uid: an agent's pods share a name across generations).
   */
  private void becameReady(Sandbox s, Pod pod, PodConnector.Runner runner) {
    s.podUid = pod.getMetadata().getUid();
    followEnds();
    s.ready.complete(runner);
  }

  /** Starts following the ends of this platform's pods, once. */
  private void followEnds() {
    if (ends == null && endsStarted.compareAndSet(false, true)) {
      try {
        ends = pods.followEnds(this::podEnded);
      } catch (RuntimeException e) {
        endsStarted.set(false);
        LOG.log(Level.WARNING, "could not follow the sandbox pods in namespace " + settings.namespace()
            + "; a pod that vanishes is noticed only when its runner stops answering", e);
      }
    }
  }

  /**
   * A pod of this platform ended or went away (deleted, evicted, its node lost): when it is the agent's ready
   * sandbox, the sandbox is forgotten and the agent's CLI counts as lost at once, so a running turn fails now with
   * the reason instead of waiting for a runner that cannot answer; the next message makes a new pod.
   */
  private void podEnded(String agentId, Pod pod) {
    synchronized (lock(agentId)) {
      Sandbox s = sandboxes.get(agentId);
      if (s == null || s.podUid == null || !s.podUid.equals(pod.getMetadata().getUid())) {
        return; // not the pod this server follows for the agent (an earlier one, or one still starting)
      }
      sandboxes.remove(agentId, s);
      String why = "its sandbox pod " + pod.getMetadata().getName() + " " + (pod.getMetadata()
          .getDeletionTimestamp() != null || !SandboxPods.ended(pod) ? "was deleted" : "ended") + SandboxPods
              .detail(pod).replaceFirst("^starting a sandbox: (the pod ended)?", "");
      LOG.info("agent " + agentId + ": " + why);
      s.close(why);
      clis.lose(agentId, why);
    }
  }

  private CliSession spawn(TurnRequest request, Sandbox sandbox, PodConnector.Runner runner) {
    if (connector == null) {
      throw PlatformException.unavailable(NO_CONNECTOR, null);
    }
    String workspace = settings.workspace();
    Map<String, String> extra = new java.util.LinkedHashMap<>();
    extra.put("PATH", SandboxObjects.PATH);
    extra.putAll(settings.environment());
    PodConnector.Launch launch = new PodConnector.Launch(
        CliCommand.arguments(settings.cli(), request.settings(), settings.permissionMode(), request
            .resumeSessionId()),
        CliCommand.environment(workspace, workspace, extra), workspace);
    CliConnection connection;
    try {
      connection = connector.connect(runner, launch);
    } catch (PlatformException e) {
      throw e;
    } catch (RuntimeException e) {
      throw unavailable("could not reach the runner of the sandbox pod " + runner.pod() + " at " + runner.ip() + ":"
          + runner.port() + ": " + rootMessage(e), e);
    }
    CliSession session = CliSession.start(request.ownerId(), request.agentId(), request.settings(), connection,
        settings.outputLimitBytes(), settings.secrets()::redact, clis::forget);
    LOG.fine(() -> "started the CLI of agent " + request.agentId() + " (" + session.describe() + ")");
    return session;
  }

  @Override
  public void release(String agentId) {
    clis.release(agentId);
  }

  @Override
  public void deleteWorkspace(String ownerId, String agentId) {
    synchronized (lock(agentId)) {
      clis.release(agentId);
      Sandbox s = sandboxes.remove(agentId);
      if (s != null) {
        s.close("the agent was deleted");
      }
      pods.deleteAll(agentId);
    }
    locks.remove(agentId);
  }

  @Override
  public int liveAgents() {
    return sandboxes.size();
  }

  /**
   * Stops the CLIs idle for {@code CLI_IDLE_SECONDS}, then deletes the pods of agents that have no CLI and were not
   * used for as long (their volumes stay).
   */
  void reap() {
    try {
      clis.stopIdle(settings.cliIdle());
      long now = System.nanoTime();
      for (Sandbox s : List.copyOf(sandboxes.values())) {
        synchronized (lock(s.agentId)) {
          boolean idle = now - s.lastUse > settings.cliIdle().toNanos() && !clis.has(s.agentId) && s.waiting
              .isEmpty();
          if ((idle || s.ready.isCompletedExceptionally()) && sandboxes.remove(s.agentId, s)) {
            s.close("the sandbox was idle");
            LOG.fine(() -> "deleting the idle sandbox pod of agent " + s.agentId);
            pods.deletePod(s.agentId);
          }
        }
      }
      for (Map.Entry<String, Long> e : List.copyOf(leftOver.entrySet())) {
        synchronized (lock(e.getKey())) {
          if (sandboxes.containsKey(e.getKey())) {
            leftOver.remove(e.getKey()); // taken over: idle like any other
          } else if (now - e.getValue() > settings.cliIdle().toNanos()) {
            leftOver.remove(e.getKey());
            LOG.fine(() -> "deleting the sandbox pod an earlier server left for agent " + e.getKey());
            pods.deletePod(e.getKey());
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "idle check failed", e);
    }
  }

  /** Ends every CLI and stops following pods; the pods stay for the next server to take over or remove. */
  @Override
  public void close() {
    reaper.cancel(false);
    AutoCloseable e = ends;
    if (e != null) {
      try {
        e.close();
      } catch (Exception x) {
        LOG.log(Level.FINE, "closing the pod informer", x);
      }
    }
    clis.killAll();
    sandboxes.values().forEach(s -> s.close("the server is stopping"));
    sandboxes.clear();
    pods.close();
  }

  private Object lock(String agentId) {
    return locks.computeIfAbsent(agentId, id -> new Object());
  }

  private void offThread(Runnable task) {
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      Thread t = new Thread(task, "kubernetes-call");
      t.setDaemon(true);
      t.start();
    }
  }

  private static PlatformException unavailable(String message, Throwable cause) {
    return PlatformException.unavailable(message, cause);
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** The outcome of asking the API server, and when. */
  record Check(RuntimeStatus status, long at) {
  }

  /** One agent's pod as this server follows it: ready once its runner can be reached, and what it waits for. */
  private static final class Sandbox {
    final String ownerId;
    final String agentId;
    final CompletableFuture<PodConnector.Runner> ready = new CompletableFuture<>();
    final List<Consumer<String>> waiting = new CopyOnWriteArrayList<>();
    volatile CompletableFuture<List<Pod>> watch;
    /** The uid of the pod once ready (pods of one agent share a name across generations). */
    volatile String podUid;
    volatile String detail = "starting a sandbox: creating the pod";
    volatile long lastUse = System.nanoTime();

    Sandbox(String ownerId, String agentId) {
      this.ownerId = ownerId;
      this.agentId = agentId;
    }

    void report(String d) {
      synchronized (this) {
        if (d.equals(detail)) {
          return;
        }
        detail = d;
      }
      waiting.forEach(w -> w.accept(d));
    }

    /** Starts telling {@code w} what the pod waits for, with the current state first. */
    void follow(Consumer<String> w) {
      waiting.add(w);
      w.accept(detail);
    }

    void close(String why) {
      CompletableFuture<List<Pod>> w = watch;
      if (w != null) {
        w.cancel(true);
      }
      ready.completeExceptionally(PlatformException.unavailable(why, null));
    }
  }

  /**
   * A turn whose sandbox is not ready yet: it tells the turn's listener what the pod waits for, and hands the
   * message to the CLI once the runner can be reached; a stop before that ends it at once.
   */
  private final class PendingTurn implements RunningTurn {
    private final TurnRequest request;
    private final TurnListener listener;
    private final Sandbox sandbox;
    private final AtomicBoolean finished = new AtomicBoolean();
    private final Consumer<String> progress;
    private RunningTurn inner;
    private boolean stopped;

    PendingTurn(TurnRequest request, TurnListener listener, Sandbox sandbox) {
      this.request = request;
      this.listener = listener;
      this.sandbox = sandbox;
      this.progress = detail -> {
        synchronized (this) {
          if (inner == null && !finished.get()) {
            listener.onEvent(new RuntimeEvent.Preparing(detail));
          }
        }
      };
    }

    void begin() {
      sandbox.follow(progress);
      sandbox.ready.whenCompleteAsync((runner, error) -> {
        sandbox.waiting.remove(progress);
        if (error != null) {
          finish(new RuntimeEvent.Failed(rootMessage(error)));
          return;
        }
        try {
          RunningTurn t;
          synchronized (lock(request.agentId())) {
            synchronized (this) {
              if (stopped || finished.get()) {
                return;
              }
            }
            sandbox.lastUse = System.nanoTime();
            t = clis.startTurn(request, r -> spawn(r, sandbox, runner), this::deliver);
          }
          boolean stopNow;
          synchronized (this) {
            inner = t;
            stopNow = stopped;
          }
          if (stopNow) {
            t.stop();
          }
        } catch (RuntimeException e) {
          finish(new RuntimeEvent.Failed(e.getMessage()));
        }
      }, KubernetesRuntime.this::offThread);
    }

    private void deliver(RuntimeEvent e) {
      if (e.isFinal()) {
        finish(e);
      } else if (!finished.get()) {
        listener.onEvent(e);
      }
    }

    private void finish(RuntimeEvent last) {
      if (finished.compareAndSet(false, true)) {
        sandbox.waiting.remove(progress);
        listener.onEvent(last);
      }
    }

    @Override
    public void stop() {
      RunningTurn t;
      synchronized (this) {
        stopped = true;
        t = inner;
      }
      if (t != null) {
        t.stop();
      } else {
        finish(new RuntimeEvent.Stopped());
      }
    }
  }
}
