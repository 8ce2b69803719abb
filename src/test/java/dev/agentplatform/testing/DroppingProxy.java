package dev.agentplatform.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of a port, whose connections a test can cut at once: what a platform sees when
 * the network between it and a pod drops.
 */
public final class DroppingProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int target;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<String> requestLines = new CopyOnWriteArrayList<>();

  private DroppingProxy(ServerSocket server, int target) {
    this.server = server;
    this.target = target;
  }

  /** Starts forwarding a free port of 127.0.0.1 to {@code target} on 127.0.0.1. */
  public static DroppingProxy start(int target) throws IOException {
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    DroppingProxy proxy = new DroppingProxy(server, target);
    daemon(proxy::accept, "proxy-accept");
    return proxy;
  }

  public int port() {
    return server.getLocalPort();
  }

  /** How many connections the proxy has taken. */
  public int accepted() {
    return accepted.get();
  }

  /** The first line of each HTTP request that went through ("GET /path HTTP/1.1"), oldest first. */
  public List<String> requestLines() {
    return List.copyOf(requestLines);
  }

  /** Cuts every connection open now (both sides); new ones are taken as before. */
  public void dropAll() {
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  @Override
  public void close() {
    closeQuietly(server);
    dropAll();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        accepted.incrementAndGet();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
        open.add(client);
        open.add(upstream);
        daemon(() -> pipe(client, upstream, true), "proxy-up");
        daemon(() -> pipe(upstream, client, false), "proxy-down");
      } catch (IOException e) {
        // closed, or the target refused: the client sees its connection end
      }
    }
  }

  private void pipe(Socket from, Socket to, boolean requests) {
    byte[] buf = new byte[8192];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buf)) > 0) {
        if (requests) {
          noteRequest(new String(buf, 0, Math.min(n, 512), StandardCharsets.ISO_8859_1));
        }
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // cut
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      open.remove(from);
      open.remove(to);
    }
  }

  /** Notes a request's first line when a read begins with one (the client writes each request's head at once). */
  private void noteRequest(String start) {
    if (start.matches("(?s)(GET|POST|PUT|DELETE|HEAD) /\\S* HTTP/1\\.1\r\n.*")) {
      requestLines.add(start.substring(0, start.indexOf('\r')));
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // already closed
    }
  }

  private static void daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }
}
