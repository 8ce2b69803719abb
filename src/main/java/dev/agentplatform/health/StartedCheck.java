package dev.agentplatform.health;

import dev.agentplatform.boot.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/** Startup probe: up once the application has built its store and runtime. */
@org.eclipse.microprofile.health.Startup
@ApplicationScoped
public class StartedCheck implements HealthCheck {

  @Inject
  Startup startup;

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("agent-platform-started").status(startup.started()).build();
  }
}
