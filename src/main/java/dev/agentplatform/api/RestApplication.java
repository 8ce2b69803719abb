package dev.agentplatform.api;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.info.Info;

/** The REST API's root at {@code /api}; its OpenAPI description is served at {@code /openapi}. */
@ApplicationPath("/api")
@OpenAPIDefinition(info = @Info(title = "agent-platform", version = "1",
    description = "Agents (Claude Code in their own workspaces) and their conversations. The WebSocket at /ws"
        + " offers the same operations plus live streaming; see docs/protocol.md."))
public class RestApplication extends Application {
}
