package dev.agentplatform.testing;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client over a plain socket, for what a well-behaved client cannot do: send binary frames, bytes
 * that are not UTF-8, fragments at will, a chosen {@code Origin}, or go silent and never answer a ping.
 */
public final class RawWebSocket implements AutoCloseable {

  /** One frame from the server: its opcode (1 text, 2 binary, 8 close, 9 ping, 10 pong) and payload. */
  public record Frame(int opcode, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The close code of a close frame. */
    public int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  private int status;

  private RawWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
  }

  /** Performs the handshake with these extra headers; {@link #status()} is the HTTP status (101 when upgraded). */
  public static RawWebSocket open(int port, Map<String, String> headers) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
    s.setSoTimeout((int) WsClient.WAIT.toMillis());
    RawWebSocket ws = new RawWebSocket(s);
    StringBuilder req = new StringBuilder("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n");
    headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
    ws.out.write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    ws.out.flush();
    ws.status = Integer.parseInt(ws.line().split(" ")[1]);
    int length = 0;
    for (String h = ws.line(); !h.isEmpty(); h = ws.line()) {
      if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(h.substring(15).trim());
      }
    }
    if (ws.status != 101) {
      ws.in.readNBytes(length);
    }
    return ws;
  }

  public int status() {
    return status;
  }

  private String line() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new EOFException("the server closed during the handshake");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  public void sendText(String text) throws IOException {
    send(0x1, true, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends one frame: {@code opcode} 0 continues a fragmented message; {@code fin} ends it. */
  public synchronized void send(int opcode, boolean fin, byte[] payload) throws IOException {
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    out.write((fin ? 0x80 : 0) | opcode);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else if (payload.length < 65536) {
      out.write(0x80 | 126);
      out.write(payload.length >> 8);
      out.write(payload.length & 0xff);
    } else {
      out.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.write((int) ((long) payload.length >> shift) & 0xff);
      }
    }
    out.write(mask);
    byte[] masked = new byte[payload.length];
    for (int i = 0; i < payload.length; i++) {
      masked[i] = (byte) (payload[i] ^ mask[i & 3]);
    }
    out.write(masked);
    out.flush();
  }

  /** The next frame from the server, waiting at most {@code wait}; null when the server closed the TCP connection. */
  public Frame read(Duration wait) throws IOException {
    socket.setSoTimeout((int) wait.toMillis());
    int b0 = in.read();
    if (b0 < 0) {
      return null;
    }
    int b1 = in.readUnsignedByte();
    long length = b1 & 0x7f;
    if (length == 126) {
      length = in.readUnsignedShort();
    } else if (length == 127) {
      length = in.readLong();
    }
    byte[] payload = new byte[(int) length];
    in.readFully(payload);
    return new Frame(b0 & 0x0f, payload);
  }

  /** The next text frame, skipping pings; throws if none comes within {@code wait}. */
  public String readText(Duration wait) throws IOException {
    while (true) {
      Frame f = read(wait);
      if (f == null) {
        throw new EOFException("closed before a text frame");
      }
      if (f.opcode() == 0x1) {
        return f.text();
      }
      if (f.opcode() == 0x8) {
        throw new EOFException("closed (" + f.closeCode() + ") before a text frame");
      }
    }
  }

  /** True when nothing but the end of the stream (or a timeout) is left to read. */
  public boolean timedOut(Duration wait) throws IOException {
    try {
      read(wait);
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
